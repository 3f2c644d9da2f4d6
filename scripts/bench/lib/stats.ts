// Latency samples and the few summaries the bench prints.

export class Samples {
  #values: number[] = [];
  #sorted = true;

  add(value: number): void {
    this.#values.push(value);
    this.#sorted = false;
  }

  addAll(other: Samples): void {
    for (const value of other.#values) this.#values.push(value);
    this.#sorted = false;
  }

  get count(): number {
    return this.#values.length;
  }

  /** The q-quantile (0..1), nearest rank; NaN when empty. */
  quantile(q: number): number {
    if (this.#values.length === 0) return Number.NaN;
    if (!this.#sorted) {
      this.#values.sort((a, b) => a - b);
      this.#sorted = true;
    }
    const index = Math.min(this.#values.length - 1, Math.max(0, Math.ceil(q * this.#values.length) - 1));
    return this.#values[index]!;
  }

  max(): number {
    return this.quantile(1);
  }
}

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Rounds for printing and JSON: 3 significant decimals below 10, fewer above. */
export function round(value: number): number {
  if (!Number.isFinite(value)) return value;
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return Number(value.toFixed(digits));
}
