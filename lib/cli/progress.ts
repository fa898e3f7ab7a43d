import { SingleBar } from 'cli-progress';

/**
 * Progress on stderr: a cli-progress bar on a terminal; otherwise (logs, CI) nothing per step and one
 * plain line per epoch.
 */
export class ProgressReporter {
  private readonly bar: SingleBar | null;
  private started = false;

  constructor(private readonly stream: NodeJS.WriteStream, label: string) {
    this.bar = stream.isTTY
      ? new SingleBar({
          stream,
          format: `${label} |{bar}| {percentage}% {value}/{total} {detail} eta {eta_formatted}`,
          hideCursor: true,
          clearOnComplete: true,
          etaBuffer: 200,
        })
      : null;
  }

  step(done: number, total: number, detail = ''): void {
    if (!this.bar) return;
    if (!this.started) {
      this.bar.start(total, done, { detail });
      this.started = true;
    } else {
      this.bar.update(done, { detail });
    }
  }

  /** A line that survives the bar (written above it on a terminal). */
  line(text: string): void {
    if (this.bar && this.started) {
      this.bar.stop();
      this.started = false;
    }
    this.stream.write(`${text}\n`);
  }

  stop(): void {
    if (this.bar && this.started) this.bar.stop();
    this.started = false;
  }
}
