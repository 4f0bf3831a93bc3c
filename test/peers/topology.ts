import type { Backend } from './backends.js';

/**
 * The interop tests' edge cluster: four nodes with asymmetric distances, chosen so that the two
 * gateways fail over to different nodes (edge-1 → edge-3 at 30 ms, not cloud-1 at 50 ms; edge-2 →
 * cloud-1 at 40 ms, not edge-3 at 80 ms).
 */
export const NODES = ['edge-1', 'edge-2', 'edge-3', 'cloud-1'] as const;
export const SERVICE = 'default/echo';
export const HOST = 'echo.default.svc.cluster.local';
export const TARGET = `xds:///${HOST}`;

/** Topology YAML with one endpoint per node (backend id = node name); `notReady` nodes' endpoints are not ready. */
export function topologyYaml(backends: readonly Backend[], notReady: readonly string[] = []): string {
  const ep = backends
    .map((b) => `      - { address: 127.0.0.1, port: ${b.port}, node: ${b.id}, ready: ${!notReady.includes(b.id)}, capacity: 10 }`)
    .join('\n');
  return `nodes:
  - { name: edge-1, zone: edge-a, region: edge }
  - { name: edge-2, zone: edge-b, region: edge }
  - { name: edge-3, zone: edge-c, region: edge }
  - { name: cloud-1, zone: cloud-a, region: cloud }
latency:
  - { from: edge-1, to: edge-2, rtt: 20 }
  - { from: edge-1, to: edge-3, rtt: 30 }
  - { from: edge-1, to: cloud-1, rtt: 50 }
  - { from: edge-2, to: edge-3, rtt: 80 }
  - { from: edge-2, to: cloud-1, rtt: 40 }
  - { from: edge-3, to: cloud-1, rtt: 100 }
services:
  - name: ${SERVICE}
    hosts: [${HOST}]
    protocol: grpc
    endpoints:
${ep}
`;
}
