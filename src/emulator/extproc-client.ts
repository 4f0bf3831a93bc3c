import { encodeRequest, HEADER_DESTINATION, HEADER_NODE } from '../extproc/codec.js';
import { setHeaderValue } from './extproc-reply.js';
import { ExtProcH2Channel } from './extproc-h2.js';
import { MESSAGE_TIMEOUT_MS } from '../xds/resources/extproc.js';

/** What Envoy's ext_proc filter learns for one request: the picked destination, if any. */
export interface ExtProcDecision {
  readonly destination?: string;
  /** The upstream answered: close the stream, as Envoy does when the HTTP request is done. */
  complete(): void;
}

/**
 * The emulated gateway's half of ext_proc: what Envoy's ext_proc filter does per request with the
 * shipped processing_mode (request headers SEND, everything else SKIP/NONE): a Process stream,
 * request_headers out, the header mutation back, and the stream closed when the request is done
 * (Envoy closes it in the filter's onDestroy), so the demo can route "proxima + ext_proc" the way
 * an Envoy gateway with an ORIGINAL_DST cluster would.
 */
export class ExtProcClient {
  private readonly channel: ExtProcH2Channel;
  /** The request_headers message per authority: the same bytes for every request. */
  private readonly requests = new Map<string, Buffer>();
  /** Decisions that did not come within the message timeout (routed by the EDS weights instead). */
  timeouts = 0;

  constructor(
    target: string,
    private readonly node: string,
  ) {
    this.channel = new ExtProcH2Channel(target);
  }

  decide(authority: string, timeoutMs = MESSAGE_TIMEOUT_MS): Promise<ExtProcDecision> {
    return new Promise((resolve) => {
      let settled = false;
      // Fail open like Envoy's failure_mode_allow: no decision within message_timeout → route by EDS,
      // and close the stream at once (envoyproxy/envoy source/extensions/filters/http/ext_proc/ext_proc.cc,
      // Filter::onMessageTimeout → closeStream(): a half-close, then a reset). The processor learns
      // then that its pick was not taken; the request's end is never reported to it.
      // Timers run before I/O in an event-loop turn: a timer that fires because this process was
      // late (busy cores) would beat a reply that is already in the socket. Envoy's loop is not
      // late like that, so the reply read in the same turn (poll runs before setImmediate) wins.
      const timer = setTimeout(
        () =>
          setImmediate(() => {
            if (settled) return;
            this.timeouts++;
            settle({ complete: () => undefined });
            stream.end();
            stream.cancel();
          }),
        timeoutMs,
      );
      const settle = (d: ExtProcDecision) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(d);
      };
      const complete = () => stream.end();
      const stream = this.channel.open({
        message(buf) {
          if (settled) return;
          const destination = setHeaderValue(buf, HEADER_DESTINATION);
          settle({ ...(destination ? { destination } : {}), complete });
        },
        done: () => settle({ complete: () => undefined }),
      });
      stream.write(this.requestFor(authority));
    });
  }

  private requestFor(authority: string): Buffer {
    let b = this.requests.get(authority);
    if (!b) {
      b = encodeRequest({
        request_headers: {
          headers: {
            headers: [
              { key: ':method', raw_value: Buffer.from('POST') },
              { key: ':path', raw_value: Buffer.from('/proxima.demo.v1.Function/Invoke') },
              { key: ':authority', raw_value: Buffer.from(authority) },
              { key: HEADER_NODE, raw_value: Buffer.from(this.node) },
            ],
          },
          end_of_stream: true,
        },
      });
      this.requests.set(authority, b);
    }
    return b;
  }

  close(): void {
    this.channel.close();
  }
}
