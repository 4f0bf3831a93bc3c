/**
 * The emulated gateways keep their upstream connections when only the EDS weights change, as Envoy
 * does: Envoy matches the hosts of a new ClusterLoadAssignment to the ones it has by address and
 * keeps them with their connection pools (envoyproxy/envoy `source/common/upstream/upstream_impl.cc`,
 * `BaseDynamicClusterImpl::updateDynamicHostList`).
 *
 * grpc-js-xds 1.14 does not: its xds resolver puts a new `grpc.internal.config_selector` object into
 * the channel arguments on every update, those arguments reach `createSubchannel`, and grpc-js's
 * subchannel pool only shares a subchannel whose arguments are all `===` equal (`channelOptionsEqual`).
 * So every weight push built a new subchannel — a new TCP connection and HTTP/2 handshake — per
 * endpoint. Until it was READY its locality was left out of `weighted_target`'s picks, and a local
 * pod (no link to cross) was READY in a millisecond while pods behind a 50–100 ms link took a round
 * trip or more: after each push, for a fraction of a second, the gateway sent far more to its own
 * node than its weights said (issue 19: 5 points more over a level under `faast`, whose weights
 * change every 2 s). C-core fixed the same sharing bug by keeping the per-channel xDS objects out of
 * the subchannel arguments (grpc/grpc#23073); this does the same for the emulated gateways.
 */
import * as grpc from '@grpc/grpc-js';
import { RoundRobinLoadBalancer } from '@grpc/grpc-js/build/src/load-balancer-round-robin.js';

type Helper = grpc.experimental.ChannelControlHelper;

/** Channel arguments that change on every resolver update without changing what a connection is. */
const PER_UPDATE_ARGUMENTS: readonly string[] = [grpc.experimental.CHANNEL_ARGS_CONFIG_SELECTOR_KEY];

/** `args` without the per-update arguments, so that equal connections compare equal in grpc-js's subchannel pool. Pure. */
export function connectionArguments(args: grpc.ChannelOptions): grpc.ChannelOptions {
  const out: grpc.ChannelOptions = {};
  for (const [key, value] of Object.entries(args)) if (!PER_UPDATE_ARGUMENTS.includes(key)) out[key] = value as unknown;
  return out;
}

/** grpc-js's own round_robin (same picks), creating its subchannels from the connection arguments only. */
class ConnectionKeepingRoundRobin extends RoundRobinLoadBalancer {
  constructor(helper: Helper) {
    super(
      grpc.experimental.createChildChannelControlHelper(helper, {
        createSubchannel: (address, args) => helper.createSubchannel(address, connectionArguments(args)),
      }),
    );
  }
}

/**
 * Replace `round_robin` (the per-locality endpoint policy under xDS `ROUND_ROBIN`) in this process's
 * grpc-js registry. Call after `@grpc/grpc-js-xds`'s `register()` and before any channel is made.
 */
export function keepConnectionsAcrossEdsUpdates(): void {
  // The config class is grpc-js's own (RoundRobinLoadBalancer checks `instanceof` on it).
  const config = grpc.experimental.parseLoadBalancingConfig({ round_robin: {} });
  grpc.experimental.registerLoadBalancerType(
    'round_robin',
    ConnectionKeepingRoundRobin,
    config.constructor as unknown as Parameters<typeof grpc.experimental.registerLoadBalancerType>[2],
  );
}
