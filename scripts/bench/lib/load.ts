// A closed-loop load generator: N clients, each on its own keep-alive connection, each sending
// its next request as soon as the previous one was answered, until the deadline.

import { performance } from 'node:perf_hooks';
import { Samples } from './stats.ts';

/** One request; resolves true when the answer was right. */
export type Call = () => Promise<boolean>;

export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  /** Latency of each answered request, ms. */
  latency: Samples;
}

export async function closedLoop(calls: Call[], durationMs: number): Promise<LoadResult> {
  const latency = new Samples();
  let requests = 0;
  let errors = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  await Promise.all(
    calls.map(async (call) => {
      while (performance.now() < deadline) {
        const sent = performance.now();
        let ok = false;
        try {
          ok = await call();
        } catch {
          ok = false;
        }
        if (ok) {
          requests++;
          latency.add(performance.now() - sent);
        } else {
          errors++;
          // A failing server must not turn the loop into a busy spin.
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      }
    }),
  );
  return { requests, errors, seconds: (performance.now() - started) / 1000, latency };
}
