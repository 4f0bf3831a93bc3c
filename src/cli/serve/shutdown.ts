import type { Logger } from '../../log.js';

/** What `proxima serve` started, stopped in reverse order; one part failing to stop does not keep the others running. */
export class ShutdownStack {
  private readonly steps: Array<() => Promise<void> | void> = [];

  constructor(private readonly log: Logger) {}

  push(step: () => Promise<void> | void): void {
    this.steps.push(step);
  }

  async close(): Promise<void> {
    while (this.steps.length) {
      const step = this.steps.pop()!;
      try {
        await step();
      } catch (err) {
        this.log.warn({ err }, 'error during shutdown');
      }
    }
  }
}
