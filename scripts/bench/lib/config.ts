// The bench's knobs, all from the environment so `npm run bench` needs no arguments.

function num(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got ${raw}`);
  return value;
}

export const benchConfig = {
  /** Measured seconds per system in the tools/call scenario, split over the rounds. */
  seconds: num('BENCH_SECONDS', 6),
  /** Alternations: each round runs every system of a comparison once, order flipped each round. */
  rounds: Math.round(num('BENCH_ROUNDS', 2)),
  warmupSeconds: num('BENCH_WARMUP_SECONDS', 1),
  connections: Math.round(num('BENCH_CONNECTIONS', 50)),
  /** Seconds per rate step in the notify-latency scenario. */
  notifySeconds: num('BENCH_NOTIFY_SECONDS', 3),
  /** Idle sessions (scenario 3) and broadcast receivers (scenario 4). */
  sessions: Math.round(num('BENCH_SESSIONS', 5000)),
  /** Scenario 3: sessions opened and kept before the baseline, so one-time growth is behind it. */
  warmSessions: Math.round(num('BENCH_WARM_SESSIONS', 1000)),
  /** Events missed before the resume (scenario 5). */
  missed: Math.round(num('BENCH_MISSED', 1000)),
};

export type BenchConfig = typeof benchConfig;
