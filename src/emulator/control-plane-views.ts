/** What the demo reads from the control plane's admin port while it runs (for the report and diagnosis). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** One node's service-time inputs as /debug/assignments shows them (the fields the demo reads). */
interface NodeInputView {
  serviceTimeSource?: string;
  model?: { serviceTimeMs: number; serviceCv2?: number };
  podSignal?: { appLatencyMs?: number | null } | null;
  faastLatencyMs?: number;
}

/** What one sample keeps per node: the service time the policy's model used and the pods' raw app latency. */
export interface SampledNodeInput {
  readonly source: string;
  readonly modelServiceTimeMs?: number;
  /** The squared coefficient of variation of service the model used (calibrated on the pods' queue wait, or assumed). */
  readonly modelServiceCv2?: number;
  readonly podAppLatencyMs?: number;
  /** FaaSt's P_j for the node (the pods' 10 s request latency, queue wait included), as the policy got it. */
  readonly faastLatencyMs?: number;
}

/**
 * Sample the control plane's priority-0 shares and learned inputs (service time and cv² per node,
 * demand, the RTT matrix) every `intervalMs` until the returned function is called; it resolves to
 * the samples (for the report and for diagnosis).
 */
export function sampleControlPlane(adminUrl: string, service: string, intervalMs = 1000): () => Promise<unknown[]> {
  const samples: unknown[] = [];
  const started = performance.now();
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      await new Promise((r) => setTimeout(r, intervalMs));
      try {
        const a = (await (await fetch(`${adminUrl}/debug/assignments`)).json()) as {
          services: Record<
            string,
            {
              gateways: Record<string, { localities: Array<{ node: string; priority: number; sharePercent: number }>; reason: string }>;
              inputs?: { nodes?: Record<string, NodeInputView> };
            }
          >;
        };
        const demand = (await (await fetch(`${adminUrl}/debug/demand`)).json()) as unknown;
        // The RTT matrix the policy read (an assignment kept by hysteresis keeps its old reason text).
        const topology = (await (await fetch(`${adminUrl}/debug/topology`)).json()) as {
          rtt?: Record<string, Record<string, { rttMs: number; source: string }>>;
        };
        const rttMs: Record<string, Record<string, number>> = {};
        for (const [from, row] of Object.entries(topology.rtt ?? {}))
          rttMs[from] = Object.fromEntries(
            Object.entries(row)
              .filter(([to]) => to !== from)
              .map(([to, x]) => [to, x.rttMs]),
          );
        const shares: Record<string, Record<string, number>> = {};
        const reasons: Record<string, string> = {};
        for (const [g, x] of Object.entries(a.services[service]?.gateways ?? {})) {
          if (g === '*') continue;
          shares[g] = Object.fromEntries(x.localities.filter((l) => l.priority === 0).map((l) => [l.node, l.sharePercent]));
          reasons[g] = x.reason;
        }
        const inputs: Record<string, SampledNodeInput> = {};
        for (const [n, x] of Object.entries(a.services[service]?.inputs?.nodes ?? {})) {
          inputs[n] = {
            source: x.serviceTimeSource ?? '',
            ...(x.model ? { modelServiceTimeMs: x.model.serviceTimeMs } : {}),
            ...(typeof x.model?.serviceCv2 === 'number' ? { modelServiceCv2: x.model.serviceCv2 } : {}),
            ...(x.podSignal?.appLatencyMs != null ? { podAppLatencyMs: x.podSignal.appLatencyMs } : {}),
            ...(typeof x.faastLatencyMs === 'number' ? { faastLatencyMs: x.faastLatencyMs } : {}),
          };
        }
        samples.push({ tMs: Math.round(performance.now() - started), shares, reasons, demand, inputs, rttMs });
      } catch {
        // control plane restarting: skip this sample
      }
    }
  })();
  return async () => {
    stopped = true;
    await loop;
    return samples;
  };
}

/** Save the control plane's /debug views (assignments, demand, topology, clients) for the report. */
export async function saveDebug(adminUrl: string, outDir: string, name: string): Promise<void> {
  const out: Record<string, unknown> = {};
  for (const view of ['assignments', 'demand', 'topology', 'clients', 'probes', 'extproc']) {
    try {
      const r = await fetch(`${adminUrl}/debug/${view}`);
      out[view] = r.ok ? await r.json() : `HTTP ${r.status}`;
    } catch (err) {
      out[view] = `unavailable: ${(err as Error).message}`;
    }
  }
  writeFileSync(join(outDir, `debug-${name}.json`), JSON.stringify(out, null, 2) + '\n');
}
