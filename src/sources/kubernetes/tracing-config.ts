/**
 * config-kourier `tracing-*` keys, parsed as net-kourier does (pkg/reconciler/ingress/config/kourier.go
 * asTracing, tracing.go parseOtlpEndpoint): `tracing-endpoint` (a URL with a port) turns tracing on;
 * `tracing-protocol` is `grpc` (default) or `http/protobuf`; `tracing-sampling-rate` 0..1 (default
 * 1); `tracing-service-name` (default `kourier-knative`). Kourier rejects the whole ConfigMap on a bad
 * value; here the bad key is reported and tracing stays off. Pure.
 */
import type { GatewayTracing } from '../../model/types.js';

export const DEFAULT_TRACING_SERVICE_NAME = 'kourier-knative';

/** `{ tracing }` when the keys ask for it and are valid, else `{}` (each problem reported). */
export function tracingFrom(
  data: Readonly<Record<string, string>>,
  report: (key: string, why: string) => void,
): { tracing?: GatewayTracing } {
  const endpoint = data['tracing-endpoint']?.trim() ?? '';
  if (endpoint === '') return {};
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    report('tracing-endpoint', `"${endpoint}" is not a URL`);
    return {};
  }
  const port = Number(url.port);
  if (url.port === '' || !Number.isInteger(port) || port <= 0 || port > 65535) {
    report('tracing-endpoint', `"${endpoint}" names no port`);
    return {};
  }
  const protocolRaw = data['tracing-protocol']?.trim() ?? '';
  if (protocolRaw !== '' && protocolRaw !== 'grpc' && protocolRaw !== 'http/protobuf') {
    report('tracing-protocol', `"${protocolRaw}" is not grpc or http/protobuf`);
    return {};
  }
  const rateRaw = data['tracing-sampling-rate']?.trim() ?? '';
  const samplingRate = rateRaw === '' ? 1 : Number(rateRaw);
  if (!Number.isFinite(samplingRate) || samplingRate < 0 || samplingRate > 1) {
    report('tracing-sampling-rate', `"${rateRaw}" is not a number from 0 to 1`);
    return {};
  }
  return {
    tracing: Object.freeze({
      endpoint,
      // URL keeps IPv6 brackets in hostname; Envoy's socket address wants the bare address.
      host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port,
      protocol: protocolRaw === 'http/protobuf' ? 'http/protobuf' : 'grpc',
      samplingRate,
      serviceName: data['tracing-service-name']?.trim() || DEFAULT_TRACING_SERVICE_NAME,
    }),
  };
}
