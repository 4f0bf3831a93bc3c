import type { ServeOptions } from '../../src/cli/serve.js';

const loopback0 = { host: '127.0.0.1', port: 0 };

/** `proxima serve` options for tests: every listener on a free loopback port, the example topology. */
export const testServeOptions = (over: Partial<ServeOptions> = {}): ServeOptions => ({
  kubernetes: false,
  policy: 'nearest',
  xdsListen: loopback0,
  extprocListen: loopback0,
  extenderListen: loopback0,
  adminListen: loopback0,
  recomputeIntervalMs: 60_000,
  ...over,
});
