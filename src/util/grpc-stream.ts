/** Anything shaped like a grpc-js server or client stream. */
interface ClosableStream {
  on(event: 'end' | 'error' | 'close' | 'cancelled', listener: (...args: unknown[]) => void): unknown;
  end(): unknown;
}

/**
 * Call `done` once the stream is over, whichever way it ends (half-close, error, close, cancel),
 * answering a client half-close with our own end so the call completes.
 */
export function onStreamDone(call: ClosableStream, done: () => void): void {
  call.on('end', () => {
    done();
    call.end();
  });
  call.on('error', done);
  call.on('close', done);
  call.on('cancelled', done);
}
