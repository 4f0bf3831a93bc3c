import type { ResourceDiff } from '../cache/diff.js';
import type { EncodedResource } from '../snapshot/encoded.js';
import type { TypeUrl } from '../resources/types.js';
import { XdsStream, type RequestCommon, type SendOptions } from './stream.js';
import type { TypeState } from './type-state.js';
import { gatherDeltaResponse } from './wire.js';

export interface DeltaDiscoveryRequestMessage extends RequestCommon {
  readonly resource_names_subscribe?: readonly string[];
  readonly resource_names_unsubscribe?: readonly string[];
  readonly initial_resource_versions?: Readonly<Record<string, string>>;
}

/** Stand-in for a resource the client says it holds at a version the cache no longer has. */
function heldElsewhere(typeUrl: string, name: string, version: string): EncodedResource {
  return { name, typeUrl: typeUrl as TypeUrl, version, fpHi: 0, fpLo: 0, any: Buffer.alloc(0), sotwEntry: Buffer.alloc(0), valueBytes: 0 };
}

/** Incremental xDS: DeltaAggregatedResources and Delta{Clusters,Endpoints,Listeners,Routes}. */
export class DeltaStream extends XdsStream {
  protected handle(state: TypeState, req: DeltaDiscoveryRequestMessage): void {
    const nonce = req.response_nonce ?? '';
    if (nonce !== '') {
      const version = state.pending.get(nonce);
      if (version === undefined) {
        // Stale or bogus: no ACK/NACK to record, but subscription changes below still count.
        this.malformed(this.issued(nonce) ? 'stale_nonce' : 'unknown_nonce', { type: state.typeUrl, nonce });
      } else {
        for (const n of [...state.pending.keys()]) {
          state.pending.delete(n);
          if (n === nonce) break;
        }
        if (req.error_detail) this.recordNack(state, nonce, version, req.error_detail.message ?? '');
        else this.recordAck(state, version);
      }
    }
    const first = !state.requested;
    state.requested = true;
    let initial = 0;
    if (first) {
      const view = this.view(state.typeUrl);
      for (const [name, version] of Object.entries(req.initial_resource_versions ?? {})) {
        const current = view.get(name);
        state.hold(current && current.version === version ? current : heldElsewhere(state.typeUrl, name, version));
        initial++;
      }
    }
    const changed = state.updateDeltaNames(req.resource_names_subscribe ?? [], req.resource_names_unsubscribe ?? [], first);
    if (first || changed) this.resync(state, { force: first && state.wildcard && initial === 0 });
  }

  protected send(state: TypeState, diff: ResourceDiff, opts?: SendOptions): void {
    state.apply(diff);
    const needed = diff.upserts.length > 0 || diff.removed.length > 0 || opts?.force === true;
    if (!needed) return;
    const nonce = this.nextNonce();
    const version = state.heldVersion;
    state.sent(nonce, version);
    this.write(
      state.typeUrl,
      gatherDeltaResponse({ systemVersionInfo: version, typeUrl: state.typeUrl, nonce, resources: diff.upserts, removed: diff.removed }),
    );
  }
}
