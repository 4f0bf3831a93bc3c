/**
 * Stable in-place insertion sort of `xs[0..count)`. For the handful of entries of one assignment or
 * one failover ranking (one per gateway and service) it beats Array.prototype.sort's set-up several
 * times over.
 */
export function insertionSort<T>(xs: { [index: number]: T }, count: number, compare: (a: T, b: T) => number): void {
  for (let i = 1; i < count; i++) {
    const x = xs[i]!;
    let j = i - 1;
    while (j >= 0 && compare(xs[j]!, x) > 0) {
      xs[j + 1] = xs[j]!;
      j--;
    }
    xs[j + 1] = x;
  }
}
