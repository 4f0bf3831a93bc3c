import net from 'node:net';

/**
 * Make every outgoing loopback TCP connection of this process originate from `address` (e.g.
 * 127.0.2.1 for emulated node 2), so delay proxies can tell which emulated node a connection comes
 * from. gRPC clients cannot bind a local address themselves; this is the emulator's stand-in for a
 * node's own IP and is only ever installed in emulator gateway processes.
 */
export function bindLoopbackConnectionsTo(address: string): void {
  const original = net.connect;
  const patched = function (this: unknown, ...args: unknown[]) {
    const first = args[0];
    // Clients such as undici pass `path: undefined` for TCP, so test the value, not the key.
    if (first && typeof first === 'object' && typeof (first as { path?: unknown }).path !== 'string') {
      const o = first as net.TcpNetConnectOpts;
      if (!o.localAddress && (o.host === undefined || o.host === 'localhost' || /^127\./.test(o.host))) {
        args[0] = { ...o, localAddress: address };
      }
    }
    return (original as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof net.connect;
  net.connect = patched;
  net.createConnection = patched;
}
