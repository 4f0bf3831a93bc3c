/**
 * HTTP load through the per-node Kourier/Proxima gateways of a real cluster: one open-loop
 * (constant-arrival-rate) scenario per gateway. See loadtest/README.md for the variables.
 *
 *   k6 run --env GATEWAYS=edge-1=10.0.0.5:8080,edge-2=10.0.0.6:8080 --env HOST=hello.default.example.com \
 *          --env RATE=50 --env DURATION=2m loadtest/http-gateways.ts
 */
import http from 'k6/http';
import { check } from 'k6';
import { Counter, Rate } from 'k6/metrics';
import { headerValue, httpConfig, httpOptions } from './lib/http-config.ts';

const config = httpConfig(__ENV);
export const options = httpOptions(config);

/** Requests per serving node (tag served_by), as the function reports it. */
const servedRequests = new Counter('proxima_served_requests');
/** Share of reported requests served on the node whose gateway they entered (needs node=addr in GATEWAYS). */
const servedLocal = new Rate('proxima_served_local');
/** Share of successful responses without the served-by header (the function does not report its node). */
const servedByMissing = new Rate('proxima_served_by_missing');

export function gateway(): void {
  const node = __ENV.GATEWAY_NODE ?? '';
  const res = http.get(`http://${__ENV.GATEWAY_ADDR}${config.path}`, {
    headers: { Host: config.host },
    timeout: config.timeout,
    // One URL name for every request: keeps http_req_* series per gateway, not per address.
    tags: { name: `${config.host}${config.path}` },
  });
  const ok = check(res, { 'status is 2xx': (r) => r.status >= 200 && r.status < 300 });
  if (!ok) return;
  const servedBy = headerValue(res.headers, config.servedByHeader);
  servedByMissing.add(servedBy === undefined);
  if (servedBy === undefined) return;
  servedRequests.add(1, { served_by: servedBy });
  if (node !== '') servedLocal.add(servedBy === node, { served_by: servedBy });
}
