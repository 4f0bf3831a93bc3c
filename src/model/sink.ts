/**
 * Where measurements learned by this replica go. The store itself by default; with several replicas
 * on Kubernetes, the shared measurement objects, so that every replica feeds its store the same rows.
 */
export interface MeasurementSink {
  setMeasuredRtt(from: string, rows: ReadonlyArray<{ to: string; rttMs: number; reachable: boolean }>, atMs: number): void;
  setDemand(service: string, byGateway: ReadonlyMap<string, number>): void;
}
