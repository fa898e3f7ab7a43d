/**
 * One process of `iwae bench --grid` (forked by grid-bench.ts), standing for one of `iwae grid`'s worker
 * processes: it prepares a job (a training stack, a final-evaluation stack or a per-epoch-pass stack of
 * `runs` runs), warms it up, says 'ready', and on each 'go' times the job and reports its seconds. The
 * parent starts every worker's 'go' together, so they compete for the cores as the grid's workers do.
 */
import { prepare, type Prepared } from './grid-jobs';
import type { FromGridWorker, ToGridWorker } from './grid-bench';

function send(message: FromGridWorker): void {
  if (process.connected) process.send!(message);
}

let prepared: Prepared | null = null;

process.on('message', (message: ToGridWorker) => {
  try {
    if (message.type === 'prepare') {
      prepared?.dispose();
      prepared = prepare(message.job);
      send({ type: 'ready' });
    } else if (message.type === 'go') {
      send({ type: 'done', seconds: prepared!.go(message.count) });
    } else if (message.type === 'release') {
      prepared?.dispose();
      prepared = null;
      send({ type: 'released' });
    } else if (message.type === 'quit') {
      prepared?.dispose();
      process.disconnect();
    }
  } catch (err) {
    send({ type: 'error', message: (err as Error).message });
    process.disconnect();
  }
});
