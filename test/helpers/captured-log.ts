import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log.js';

/** A logger whose output a test can read back (e.g. to show a secret never reaches the log). */
export function capturedLogger(level: 'debug' | 'info'): { readonly log: Logger; text(): string } {
  let text = '';
  const destination = new Writable({
    write(chunk, _enc, cb) {
      text += String(chunk);
      cb();
    },
  });
  return { log: createLogger({ level, destination }), text: () => text };
}
