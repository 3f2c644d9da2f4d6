// Scenario 6: `npm run bench:pool` (scripts/bench/pool.ts), run as a child and folded into the
// report: what a CPU-bound tool costs the other clients of a worker, inline vs on the pool.

import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { spawnTs } from '../lib/children.ts';
import type { BenchConfig } from '../lib/config.ts';
import { ratioOf, type Row, type ScenarioResult } from '../lib/report.ts';

const SCRIPT = fileURLToPath(new URL('../pool.ts', import.meta.url));

export async function runPool(config: BenchConfig, log: (line: string) => void): Promise<ScenarioResult> {
  const started = performance.now();
  const seconds = Math.max(2, Math.min(6, Math.round(config.seconds / 2)));
  const child = spawnTs('bench:pool', SCRIPT, ['--seconds', String(seconds)]);
  const code = await new Promise<number | null>((resolve) => child.child.once('exit', (c) => resolve(c)));
  for (const line of child.lines) log(`   ${line}`);
  if (code !== 0) throw new Error(`bench:pool exited with ${code}`);
  const rows: Row[] = [];
  const parsed = new Map<string, number[]>();
  for (const line of child.lines) {
    const match = /^(inline|pool)\s+(.*)$/.exec(line.trim());
    if (!match) continue;
    const numbers = match[2]!.trim().split(/\s+/).map(Number);
    parsed.set(match[1]!, numbers);
    const [loopP50, loopP99, loopMax, pingP50, pingP99, pings, callsPerSecond] = numbers;
    rows.push({
      system: `count_primes ${match[1]}`,
      cells: { 'loop p99 ms': loopP99 ?? null, 'loop max ms': loopMax ?? null, 'ping p50 ms': pingP50 ?? null, 'ping p99 ms': pingP99 ?? null, pings: pings ?? null, 'CPU calls/s': callsPerSecond ?? null },
    });
    void loopP50;
  }
  return {
    id: 'pool',
    title: `6. CPU-bound tool inline vs on the thread pool (bench:pool, ${seconds} s per mode)`,
    columns: ['loop p99 ms', 'loop max ms', 'ping p50 ms', 'ping p99 ms', 'pings', 'CPU calls/s'],
    rows,
    comparisons: [{ label: 'ping p99 of another session, inline / pool', value: ratioOf(parsed.get('inline')?.[4], parsed.get('pool')?.[4]), unit: 'x', target: null, met: null }],
    notes: [child.lines[0] ?? ''],
    seconds: (performance.now() - started) / 1000,
  };
}
