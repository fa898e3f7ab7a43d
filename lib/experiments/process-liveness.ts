import { readFileSync } from 'node:fs';

/**
 * Whether a process that once wrote a lock is still running on this host. A pid alone is not enough:
 * a SIGKILLed worker stays a zombie until reaped (kill(pid, 0) still succeeds), and pids get reused.
 * On Linux the start time from /proc (clock ticks since boot) tells the original process from a new
 * one with the same pid; elsewhere only kill(pid, 0) is available.
 */

interface ProcStat {
  state: string;
  startTicks: string;
}

function readProcStat(pid: number): ProcStat | null | 'no-procfs' {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0], startTicks: fields[19] };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return procfsAvailable() ? null : 'no-procfs';
    return 'no-procfs';
  }
}

function procfsAvailable(): boolean {
  try {
    readFileSync('/proc/self/stat');
    return true;
  } catch {
    return false;
  }
}

/** An id of this incarnation of process `pid` (its start time), or null where /proc is not available. */
export function processStartToken(pid: number): string | null {
  const stat = readProcStat(pid);
  return stat && stat !== 'no-procfs' ? stat.startTicks : null;
}

/** True when process `pid`, started at `startToken` (null: unknown), is running (not a zombie). */
export function isProcessAlive(pid: number, startToken: string | null): boolean {
  const stat = readProcStat(pid);
  if (stat === null) return false;
  if (stat !== 'no-procfs') {
    if (stat.state === 'Z' || stat.state === 'X') return false;
    return startToken === null || stat.startTicks === startToken;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
