import * as grpc from '@grpc/grpc-js';

/** Bind `server` to a free loopback port (insecure, as the tests' peers are local) and return the port. */
export function bindLoopback(server: grpc.Server): Promise<number> {
  return new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
  );
}
