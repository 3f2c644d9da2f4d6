// A CPU-bound demo task: counts the primes below `limit` by trial division, so the work grows
// with the input (about 1 s for limit = 5,000,000 on a laptop core). A pure function: it runs the
// same on a pool thread or inline (the benchmark compares both).

export interface PrimeCount {
  limit: number;
  count: number;
}

export function countPrimes({ limit }: { limit: number }): PrimeCount {
  let count = limit > 2 ? 1 : 0; // 2
  for (let n = 3; n < limit; n += 2) {
    let prime = true;
    for (let d = 3; d * d <= n; d += 2) {
      if (n % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
  }
  return { limit, count };
}
