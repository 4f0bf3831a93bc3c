/**
 * Load on Proxima's ext_proc server the way Envoy drives it: one bidirectional
 * envoy.service.ext_proc.v3.ExternalProcessor/Process stream per request, request_headers then
 * response_headers. Checks that each request gets an x-proxima-destination ip:port and records the
 * decision latency (request_headers written → reply received). See loadtest/README.md.
 *
 *   k6 run --env EXTPROC_ADDR=10.0.0.9:18001 --env PROTO_DIR=$PWD/node_modules/@grpc/grpc-js-xds/deps \
 *          --env NODES=edge-1,edge-2 --env HOSTS=hello.default.example.com loadtest/extproc-grpc.ts
 */
import { check } from 'k6';
import encoding from 'k6/encoding';
import exec from 'k6/execution';
import { Client, Stream } from 'k6/net/grpc';
import { Counter, Rate, Trend } from 'k6/metrics';
import { clearTimeout, setTimeout } from 'k6/timers';
import { extprocConfig, extprocOptions } from './lib/extproc-config.ts';
import {
  clearsRouteCache,
  EXTPROC_METHOD,
  HEADER_DESTINATION,
  isHostPort,
  mutatedHeader,
  replyKind,
  requestHeadersMessage,
  responseHeadersMessage,
} from './lib/extproc-messages.ts';

const config = extprocConfig(__ENV);
export const options = extprocOptions(config);

// Protos are parsed once, in the init context (client.load is not allowed in VU code).
const client = new Client();
if (config.protos.kind === 'protoset') client.loadProtoset(config.protos.path);
else client.load([...config.protos.importPaths], config.protos.file);

const decisionMs = new Trend('proxima_extproc_decision_ms', true);
const responsePhaseMs = new Trend('proxima_extproc_response_phase_ms', true);
const routed = new Rate('proxima_extproc_routed');
const streamFailed = new Rate('proxima_extproc_stream_failed');
const destinations = new Counter('proxima_extproc_destinations');

const b64encode = (s: string): string => encoding.b64encode(s, 'std');
const b64decode = (s: string): string => encoding.b64decode(s, 'std', 's');

let connected = false;

export function decide(): void {
  if (!connected) {
    client.connect(config.address, { plaintext: true, timeout: '5s' });
    connected = true;
  }
  const i = exec.scenario.iterationInTest;
  const node = config.nodes[i % config.nodes.length]!;
  const authority = config.hosts[Math.floor(i / config.nodes.length) % config.hosts.length]!;
  const tags = { gateway_node: node, authority };

  const stream = new Stream(client, EXTPROC_METHOD, { tags });
  let phase: 'request' | 'response' | 'done' = 'request';
  let sentAt = Date.now();
  const finish = (failed: boolean) => {
    if (phase === 'done') return;
    phase = 'done';
    clearTimeout(timer);
    streamFailed.add(failed, tags);
    stream.end();
  };
  const timer = setTimeout(() => finish(true), config.streamTimeoutMs);

  stream.on('data', (msg) => {
    const now = Date.now();
    if (phase === 'request') {
      decisionMs.add(now - sentAt, tags);
      const kind = replyKind(msg);
      const destination = mutatedHeader(msg, HEADER_DESTINATION, b64decode);
      routed.add(destination !== undefined, tags);
      if (destination !== undefined) destinations.add(1, { ...tags, destination });
      check(msg, {
        'answers request_headers': () => kind === 'request_headers',
        ...(config.expectDestination
          ? {
              'x-proxima-destination is ip:port': () => isHostPort(destination),
              'route cache cleared': () => clearsRouteCache(msg),
            }
          : {}),
      });
      if (kind !== 'request_headers') return finish(kind !== 'immediate_response');
      phase = 'response';
      sentAt = Date.now();
      stream.write(responseHeadersMessage(200, config.encoding, b64encode));
    } else if (phase === 'response') {
      responsePhaseMs.add(now - sentAt, tags);
      check(msg, { 'answers response_headers': (m) => replyKind(m) === 'response_headers' });
      finish(false);
    }
  });
  stream.on('error', () => finish(true));
  stream.on('end', () => finish(phase !== 'done'));

  sentAt = Date.now();
  stream.write(requestHeadersMessage({ authority, node, requestId: `k6-${exec.vu.idInTest}-${i}` }, config.encoding, b64encode));
}
