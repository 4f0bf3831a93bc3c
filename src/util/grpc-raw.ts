import type * as grpc from '@grpc/grpc-js';

/** Messages passed through as bytes: the demo's and the tests' one-method peers need no proto. */
export const rawBytes = (b: Buffer): Buffer => b;

/** A service definition with one unary method `name` at `path` whose messages are raw bytes. */
export function rawUnaryService(name: string, path: string): grpc.ServiceDefinition {
  return {
    [name]: {
      path,
      requestStream: false,
      responseStream: false,
      requestSerialize: rawBytes,
      requestDeserialize: rawBytes,
      responseSerialize: rawBytes,
      responseDeserialize: rawBytes,
    },
  };
}
