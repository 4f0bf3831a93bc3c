import { diffResources, type ResourceDiff } from '../cache/diff.js';
import { versionOf } from '../snapshot/encoded.js';
import { XdsStream, type RequestCommon, type SendOptions } from './stream.js';
import { isFullStateType, type TypeState } from './type-state.js';
import { gatherSotwResponse } from './wire.js';

export interface DiscoveryRequestMessage extends RequestCommon {
  readonly version_info?: string;
  readonly resource_names?: readonly string[];
  /** The raw resource_names fields when the request came through parseDiscoveryRequest. */
  readonly namesBytes?: Buffer;
  /** resource_names as a set shared with other requests of the same list (parseDiscoveryRequest). */
  nameSet?(): ReadonlySet<string> | undefined;
}

/** State-of-the-world xDS: StreamAggregatedResources and Stream{Clusters,Endpoints,Listeners,Routes}. */
export class SotwStream extends XdsStream {
  protected handle(state: TypeState, req: DiscoveryRequestMessage): void {
    const nonce = req.response_nonce ?? '';
    if (nonce !== '') {
      if (nonce !== state.lastNonce) {
        // A response superseded this one (or it was never ours): the client will answer the newer one.
        this.malformed(this.issued(nonce) ? 'stale_nonce' : 'unknown_nonce', { type: state.typeUrl, nonce });
        return;
      }
      const version = state.pending.get(nonce) ?? state.versionSent ?? '';
      state.pending.clear();
      if (req.error_detail) this.recordNack(state, nonce, version, req.error_detail.message ?? '');
      else this.recordAck(state, version);
    }
    const first = !state.requested;
    state.requested = true;
    // ACKs repeat the whole list: compare its bytes (one memcmp) before materialising 1,000 names.
    let subscriptionChanged = false;
    if (req.namesBytes === undefined || state.namesBytes === undefined || !req.namesBytes.equals(state.namesBytes)) {
      subscriptionChanged = state.setSotwNames(req.resource_names ?? [], req.nameSet?.());
      // A copy: the request's buffer is not kept alive by the subscription.
      state.namesBytes = req.namesBytes && Buffer.from(req.namesBytes);
    }
    if (first) {
      const clientVersion = req.version_info ?? '';
      if (nonce === '' && clientVersion !== '' && this.resumes(state, clientVersion)) return;
      this.resync(state, { force: state.wildcard || isFullStateType(state.typeUrl) });
    } else if (subscriptionChanged) {
      this.resync(state);
    }
  }

  /**
   * A client reconnecting with the version it already holds gets no response when that is exactly
   * what it would receive now (versions are content hashes, so this holds across server restarts).
   */
  private resumes(state: TypeState, clientVersion: string): boolean {
    if (state.held.size > 0) return false;
    const desired = diffResources(state, this.view(state.typeUrl), state.held);
    if (versionOf(desired.upserts) !== clientVersion) return false;
    state.apply(desired);
    state.versionSent = clientVersion;
    state.versionAcked = clientVersion;
    return true;
  }

  protected send(state: TypeState, diff: ResourceDiff, opts?: SendOptions): void {
    state.apply(diff);
    const fullState = isFullStateType(state.typeUrl);
    // EDS and RDS are incremental even in SotW: absent resources are not deletions (Envoy xDS docs).
    const needed = diff.upserts.length > 0 || (fullState && diff.removed.length > 0) || opts?.force === true;
    if (!needed) return;
    const nonce = this.nextNonce();
    const version = state.heldVersion;
    // A whole view sent against nothing held is exactly what the client now holds.
    const resources = fullState && !diff.whole ? state.held.values() : diff.upserts;
    state.sent(nonce, version);
    const fields = { versionInfo: version, typeUrl: state.typeUrl, nonce, resources };
    this.write(state.typeUrl, this.ctx.sotwResponses?.encode(fields) ?? gatherSotwResponse(fields));
  }
}
