import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** The PyTorch references (bench/reference.py) run from .venv-bench (scripts/setup-bench.sh). */
export type ReferenceLocation = { available: true; python: string; script: string } | { available: false; reason: string };

export function locateReference(repoRoot: string): ReferenceLocation {
  const python = join(repoRoot, '.venv-bench', 'bin', 'python');
  const script = join(repoRoot, 'bench', 'reference.py');
  if (!existsSync(script)) return { available: false, reason: `${script} is missing` };
  if (!existsSync(python)) return { available: false, reason: 'no PyTorch reference: .venv-bench is missing (run scripts/setup-bench.sh)' };
  return { available: true, python, script };
}

export interface ReferenceSetting {
  objective: 'iwae' | 'vae';
  k: number;
  batch: number;
  seed: number;
}

export interface ReferenceInfo {
  torch: string;
  threads: number;
}

/**
 * How the reference computes an iteration (bench/reference.py): 'study' as the study's own PyTorch code
 * does (per-image binarization in a DataLoader, torch.distributions log-probabilities, three .item()
 * reads); 'lean' a tight rewrite of the same iteration. Same model, objective, optimizer and data.
 */
export type ReferenceStyle = 'study' | 'lean';

/**
 * A running reference.py: a step server on stdin/stdout (one JSON command per line, one JSON answer per
 * line), so its timing blocks can alternate with ours in one invocation.
 */
export class ReferenceServer {
  private readonly pending: Array<{ resolve: (line: string) => void; reject: (err: Error) => void }> = [];
  private readonly stderrTail: string[] = [];
  private exited: Error | null = null;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (line) => this.pending.shift()?.resolve(line));
    createInterface({ input: child.stderr }).on('line', (line) => {
      this.stderrTail.push(line);
      if (this.stderrTail.length > 5) this.stderrTail.shift();
    });
    child.on('error', (err) => this.fail(err));
    child.on('close', (code, signal) => this.fail(new Error(`reference.py exited (${signal ?? code})${this.tail()}`)));
  }

  /** Starts the server and asks for its torch version (which also proves torch imports). */
  static async start(location: Extract<ReferenceLocation, { available: true }>, setting: ReferenceSetting): Promise<{ server: ReferenceServer; info: ReferenceInfo }> {
    const args = [location.script, '--objective', setting.objective, '--k', String(setting.k), '--batch', String(setting.batch), '--seed', String(setting.seed)];
    const server = new ReferenceServer(spawn(location.python, args, { stdio: ['pipe', 'pipe', 'pipe'] }));
    try {
      const info = JSON.parse(await server.request({ cmd: 'info' })) as ReferenceInfo;
      return { server, info };
    } catch (err) {
      await server.close();
      throw err;
    }
  }

  /** Milliseconds of each of `n` reference iterations in `style`. */
  async time(n: number, style: ReferenceStyle): Promise<number[]> {
    const answer = JSON.parse(await this.request({ cmd: 'steps', n, style })) as { ms: number[] };
    return answer.ms;
  }

  /** Both styles' loss (-L_k, or the VAE loss) from the same weights, batch and noise. */
  async losses(seed: number): Promise<Record<ReferenceStyle, number>> {
    return JSON.parse(await this.request({ cmd: 'loss', seed })) as Record<ReferenceStyle, number>;
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((resolve) => this.child.once('close', () => resolve()));
    this.child.stdin.end(`${JSON.stringify({ cmd: 'quit' })}\n`);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await done;
    clearTimeout(timer);
  }

  private request(command: object): Promise<string> {
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.child.stdin.write(`${JSON.stringify(command)}\n`);
    });
  }

  private fail(err: Error): void {
    if (this.exited) return;
    this.exited = err;
    for (const p of this.pending.splice(0)) p.reject(err);
  }

  private tail(): string {
    const last = this.stderrTail.filter((l) => l.trim()).pop();
    return last ? `: ${last}` : '';
  }
}
