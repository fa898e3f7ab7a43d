import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/cli';

/** A free TCP port on 127.0.0.1 (the OS picks it; closed again before JupyterLab binds it). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface LabServer {
  url: string;
  token: string;
  log: () => string;
  stop(): Promise<void>;
}

/**
 * JupyterLab from the project's .venv on a free port, as `make lab` starts it (same settings: the news
 * and update-check defaults come from the overrides setup installs in the venv), with the app object
 * exposed to the page (how JupyterLab's own Galata tests drive it) and a throw-away workspace, so no
 * layout a user saved is restored. `env` reaches the kernels (profile, results and figures dirs).
 * The server's root is a copy of notebooks/ under `scratch`, so neither a save nor JupyterLab's autosave
 * can write outputs into the tracked notebooks (the kernel still starts in the repo root: kernel.json).
 */
export async function startJupyterLab(env: NodeJS.ProcessEnv, scratch: string): Promise<LabServer> {
  const root = join(scratch, 'lab');
  cpSync(join(REPO_ROOT, 'notebooks'), join(root, 'notebooks'), { recursive: true, filter: (src) => !/executed|published/.test(src) });
  const port = await freePort();
  const token = `iwae-test-${process.pid}`;
  const args = [
    'lab', '--no-browser', `--port=${port}`, '--ip=127.0.0.1', `--ServerApp.token=${token}`,
    `--ServerApp.root_dir=${root}`, '--LabApp.expose_app_in_browser=True', '--ServerApp.port_retries=0',
  ];
  if (process.getuid?.() === 0) args.push('--allow-root');
  const child: ChildProcess = spawn(join(REPO_ROOT, '.venv', 'bin', 'jupyter'), args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env, JUPYTERLAB_WORKSPACES_DIR: join(scratch, 'workspaces'), JUPYTER_RUNTIME_DIR: join(scratch, 'runtime') },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group: stop() ends the server and its kernels together
  });
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.pid === undefined) return;
    const exited = new Promise((r) => child.once('exit', r));
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
    const killTimer = setTimeout(() => child.pid !== undefined && process.kill(-child.pid, 'SIGKILL'), 10_000);
    await exited;
    clearTimeout(killTimer);
  };
  // Ready when the REST API answers (up to 60 s: a cold start on a loaded 2-core machine).
  for (let attempt = 0; attempt < 240; attempt++) {
    if (child.exitCode !== null) throw new Error(`JupyterLab exited (${child.exitCode}):\n${output.slice(-3000)}`);
    try {
      const res = await fetch(`${url}/api/status?token=${token}`);
      if (res.ok) return { url, token, log: () => output, stop };
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  await stop();
  throw new Error(`JupyterLab did not answer on ${url} within 60 s:\n${output.slice(-3000)}`);
}
