/**
 * One process of the grid-throughput measurement (forked by `measureGridThroughput`): builds our step
 * (a stack of `setting.runs` runs), warms up, says 'ready', and on 'go' times its stack iterations and
 * reports them (the parent turns them into run-iterations). Several run at once, as the grid
 * runner's workers do.
 */
import { OurStep } from './our-step';
import type { FromThroughputWorker, ToThroughputWorker } from './throughput';

function send(message: FromThroughputWorker): void {
  if (process.connected) process.send!(message);
}

let step: OurStep | null = null;

process.on('message', (message: ToThroughputWorker) => {
  try {
    if (message.type === 'setup') {
      step = new OurStep(message.setting);
      step.time(message.warmupSteps);
      send({ type: 'ready' });
    } else if (message.type === 'go') {
      const start = performance.now();
      step!.time(message.steps);
      send({ type: 'done', steps: message.steps, seconds: (performance.now() - start) / 1000 });
      step!.dispose();
      process.disconnect();
    }
  } catch (err) {
    send({ type: 'error', message: (err as Error).message });
    process.disconnect();
  }
});
