import { collectDefaultMetrics, Registry } from 'prom-client';
import { listen, num, parseOptions, renderHelp, str, UsageError, type ParsedOptions } from '../config.js';

export { runProbe, type ProbeOptions, type QueueProxyScrapeOptions } from '../probe/run.js';
import { PROBE_SPEC } from './specs.js';
import { createLogger } from '../log.js';
import { runProbe, type ProbeOptions } from '../probe/run.js';
import { untilTerminated } from './signals.js';

export function probeOptionsFrom(o: ParsedOptions): ProbeOptions {
  const node = str(o, 'node');
  const controlPlane = str(o, 'control-plane');
  if (!node) throw new UsageError('--node is required (the node this agent runs on)');
  if (!controlPlane || !/^(\[[^\]]+\]|[^:]+):\d{1,5}$/.test(controlPlane)) throw new UsageError('--control-plane HOST:PORT is required');
  const intervalMs = num(o, 'interval-ms');
  const timeoutMs = num(o, 'timeout-ms');
  const maxPeers = num(o, 'max-peers');
  if (!(intervalMs >= 10)) throw new UsageError('--interval-ms must be >= 10');
  if (!(timeoutMs > 0 && timeoutMs <= intervalMs)) throw new UsageError('--timeout-ms must be > 0 and <= --interval-ms');
  if (!(Number.isInteger(maxPeers) && maxPeers >= 1)) throw new UsageError('--max-peers must be an integer >= 1');
  const advertise = str(o, 'advertise');
  const caPath = str(o, 'tls-ca');
  const certPath = str(o, 'tls-cert');
  const keyPath = str(o, 'tls-key');
  if (!certPath !== !keyPath) throw new UsageError('--tls-cert and --tls-key go together');
  if (certPath && !caPath) throw new UsageError('--tls-cert needs --tls-ca (the CA of the control plane certificate)');
  const serverName = str(o, 'tls-server-name');
  const qpInterval = num(o, 'queue-proxy-interval-ms');
  const qpTimeout = num(o, 'queue-proxy-timeout-ms');
  const qpConcurrency = num(o, 'queue-proxy-concurrency');
  const qpWindow = num(o, 'queue-proxy-window-ms');
  if (!(qpInterval === 0 || qpInterval >= 100)) throw new UsageError('--queue-proxy-interval-ms must be 0 (off) or >= 100');
  if (qpInterval > 0 && !(qpTimeout > 0 && qpTimeout <= qpInterval))
    throw new UsageError('--queue-proxy-timeout-ms must be > 0 and <= --queue-proxy-interval-ms');
  if (!(Number.isInteger(qpConcurrency) && qpConcurrency >= 1 && qpConcurrency <= 256))
    throw new UsageError('--queue-proxy-concurrency must be an integer from 1 to 256');
  if (qpInterval > 0 && !(qpWindow >= qpInterval && qpWindow <= 600_000))
    throw new UsageError('--queue-proxy-window-ms must be from --queue-proxy-interval-ms to 600000');
  return {
    ...(caPath ? { tls: { caPath, ...(certPath && keyPath ? { certPath, keyPath } : {}) } } : {}),
    ...(serverName ? { tlsServerName: serverName } : {}),
    node,
    controlPlane,
    listen: listen(o, 'listen'),
    ...(advertise ? { advertise } : {}),
    intervalMs,
    timeoutMs,
    maxPeers,
    nearRttMs: num(o, 'near-rtt-ms'),
    ...(o['admin-listen'] ? { adminListen: listen(o, 'admin-listen') } : {}),
    ...(qpInterval > 0
      ? { queueProxy: { intervalMs: qpInterval, timeoutMs: qpTimeout, concurrency: qpConcurrency, windowMs: qpWindow } }
      : {}),
  };
}

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const o = parseOptions(PROBE_SPEC, argv, env);
  if (o['help']) {
    process.stdout.write(renderHelp(PROBE_SPEC));
    return 0;
  }
  const options = probeOptionsFrom(o);
  const log = createLogger({
    level: str(o, 'log-level'),
    format: str(o, 'log-format') as 'json' | 'pretty',
    maxValueChars: num(o, 'log-max-value-chars'),
    name: 'probe',
  });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'proxima_process_' });
  const agent = await runProbe(options, log, registry);
  await untilTerminated(log);
  await agent.close();
  return 0;
}
