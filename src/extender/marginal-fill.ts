/**
 * A min-heap of node indices keyed by marginal cost (ms), with each entry's RTT, for the response
 * model's fill: every step of a gateway's demand goes to the node on top; only that node's key
 * changes, so a step costs O(log nodes) instead of a scan. Reused across evaluations (no
 * allocation per step). Ties go to the entry pushed first, so the fill is deterministic.
 */
export class MarginalHeap {
  private readonly node: Int32Array;
  private readonly key: Float64Array;
  private readonly rtt: Float64Array;
  private readonly seq: Float64Array;
  private size = 0;
  private pushes = 0;

  constructor(capacity: number) {
    this.node = new Int32Array(capacity);
    this.key = new Float64Array(capacity);
    this.rtt = new Float64Array(capacity);
    this.seq = new Float64Array(capacity);
  }

  clear(): void {
    this.size = 0;
    this.pushes = 0;
  }

  get empty(): boolean {
    return this.size === 0;
  }

  /** Key of the top entry (Infinity when empty). */
  get topKey(): number {
    return this.size > 0 ? this.key[0]! : Infinity;
  }

  get topNode(): number {
    return this.node[0]!;
  }

  get topRtt(): number {
    return this.rtt[0]!;
  }

  push(node: number, key: number, rtt: number): void {
    let i = this.size++;
    const seq = this.pushes++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(key, seq, this.key[parent]!, this.seq[parent]!)) break;
      this.move(parent, i);
      i = parent;
    }
    this.set(i, node, key, rtt, seq);
  }

  pop(): void {
    const last = --this.size;
    if (last <= 0) return;
    const node = this.node[last]!;
    const key = this.key[last]!;
    const rtt = this.rtt[last]!;
    const seq = this.seq[last]!;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= last) break;
      if (child + 1 < last && this.before(this.key[child + 1]!, this.seq[child + 1]!, this.key[child]!, this.seq[child]!)) child++;
      if (!this.before(this.key[child]!, this.seq[child]!, key, seq)) break;
      this.move(child, i);
      i = child;
    }
    this.set(i, node, key, rtt, seq);
  }

  private before(k1: number, s1: number, k2: number, s2: number): boolean {
    return k1 < k2 || (k1 === k2 && s1 < s2);
  }

  private move(from: number, to: number): void {
    this.node[to] = this.node[from]!;
    this.key[to] = this.key[from]!;
    this.rtt[to] = this.rtt[from]!;
    this.seq[to] = this.seq[from]!;
  }

  private set(i: number, node: number, key: number, rtt: number, seq: number): void {
    this.node[i] = node;
    this.key[i] = key;
    this.rtt[i] = rtt;
    this.seq[i] = seq;
  }
}
