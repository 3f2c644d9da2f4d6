// Scenario 3: what an idle session holding its GET stream costs the server. N sessions are
// opened, each with its standalone SSE stream on its own connection, then left idle; the
// servers' RSS is read (after a full GC in each process) before and after, and divided by N.
// The peers: an idle SDK v1 stateful session (McpServer + transport per session), and the floor,
// an idle SSE response in bare node:http.

import { performance } from 'node:perf_hooks';
import { startRedis, type RedisHandle } from '../../../test/helpers/redis.ts';
import { settledRssKb, startMcpCluster, startPeer, stopAll, type Running } from '../lib/children.ts';
import type { BenchConfig } from '../lib/config.ts';
import { ratioOf, type Comparison, type Row, type ScenarioResult } from '../lib/report.ts';
import { openSessionStreams, type SessionStreams } from '../lib/sessions.ts';

/** Sessions open before the first reading (code paths compiled, init connections made). */
const FIRST_SESSIONS = 50;
const OPEN_CONCURRENCY = 50;

interface Measured {
  system: string;
  sessions: number;
  /** Sessions opened (and kept open) between the first reading and the baseline. */
  warmSessions: number;
  /** RSS with FIRST_SESSIONS open: a process that has barely grown yet. */
  firstKb: number;
  /** RSS with FIRST_SESSIONS + warmSessions open: the baseline of the per-session figure. */
  baselineKb: number;
  loadedKb: number;
  /** (loaded − baseline) / sessions: what one more idle session costs a warm server. */
  perSessionKb: number;
  /**
   * (loaded − first) / (warm + sessions): the same from a barely grown process, so it also
   * spreads the process's one-time growth (optimized code, heap and allocator sizing) over the sessions.
   */
  fromColdKb: number;
  openSeconds: number;
}

async function measure(system: string, url: string, pids: number[], count: number, warm: number, session: boolean, log: (line: string) => void): Promise<Measured> {
  const sets: SessionStreams[] = [];
  try {
    sets.push(await openSessionStreams(url, FIRST_SESSIONS, { session, concurrency: OPEN_CONCURRENCY }));
    const firstKb = await settledRssKb(pids);
    if (warm > 0) sets.push(await openSessionStreams(url, warm, { session, concurrency: OPEN_CONCURRENCY }));
    const baselineKb = await settledRssKb(pids);
    const opened = performance.now();
    sets.push(await openSessionStreams(url, count, { session, concurrency: OPEN_CONCURRENCY }));
    const openSeconds = (performance.now() - opened) / 1000;
    const loadedKb = await settledRssKb(pids);
    const perSessionKb = (loadedKb - baselineKb) / count;
    const fromColdKb = (loadedKb - firstKb) / (warm + count);
    log(
      `   ${system}: ${count} idle streams opened in ${openSeconds.toFixed(1)} s; RSS ${Math.round(firstKb / 1024)} → ${Math.round(baselineKb / 1024)} → ${Math.round(loadedKb / 1024)} MiB: ` +
        `${perSessionKb.toFixed(1)} KiB each on top of ${warm + FIRST_SESSIONS} open, ${fromColdKb.toFixed(1)} KiB each from ${FIRST_SESSIONS}`,
    );
    return { system, sessions: count, warmSessions: warm, firstKb, baselineKb, loadedKb, perSessionKb, fromColdKb, openSeconds };
  } finally {
    for (const set of sets) await set.close();
  }
}

export async function runIdleMemory(config: BenchConfig, log: (line: string) => void): Promise<ScenarioResult> {
  const started = performance.now();
  const count = config.sessions;
  const warm = config.warmSessions;
  const results: Measured[] = [];
  let redis: RedisHandle | undefined;
  const children: Running[] = [];
  try {
    // One system up at a time: memory is read per process, but the CPU and the page cache are shared.
    const order: Array<() => Promise<void>> = [
      async () => {
        const single = await startMcpCluster({ workers: 1, args: ['--shutdown-timeout', '2000'] });
        children.push(single);
        results.push(await measure('mcp-cluster 1 worker (memory)', single.url, [single.pid], count, warm, true, log));
        await single.stop();
      },
      async () => {
        const v1 = await startPeer('sdk-v1-stateful', 'sdk-v1.ts', ['--mode', 'stateful']);
        children.push(v1);
        results.push(await measure('SDK v1 stateful session', v1.url, [v1.pid], count, warm, true, log));
        await v1.stop();
      },
      async () => {
        redis = await startRedis();
        const pair = await startMcpCluster({ workers: 2, redisUrl: redis.url, args: ['--shutdown-timeout', '2000'] });
        children.push(pair);
        results.push(await measure('mcp-cluster 2 workers (Redis), both workers', pair.url, [...pair.workerPids.values()], count, warm, true, log));
        await pair.stop();
      },
      async () => {
        const bare = await startPeer('bare-http', 'bare-http.ts');
        children.push(bare);
        results.push(await measure('bare node:http SSE response (floor)', bare.url, [bare.pid], count, warm, false, log));
        await bare.stop();
      },
    ];
    for (const run of order) await run();
  } finally {
    await stopAll(children);
    await redis?.stop();
  }
  const rows: Row[] = results.map((m) => ({
    system: m.system,
    cells: {
      sessions: m.sessions,
      'RSS first MiB': m.firstKb / 1024,
      'RSS before MiB': m.baselineKb / 1024,
      'RSS after MiB': m.loadedKb / 1024,
      'KiB/session': m.perSessionKb,
      'KiB/session from cold': m.fromColdKb,
      'open s': m.openSeconds,
    },
  }));
  const ours = results.find((m) => m.system.startsWith('mcp-cluster 1 worker'));
  const ours2 = results.find((m) => m.system.startsWith('mcp-cluster 2 workers'));
  const sdk = results.find((m) => m.system.startsWith('SDK v1'));
  const comparisons: Comparison[] = [
    { label: 'mcp-cluster 1 worker, RSS per idle session', value: ours?.perSessionKb ?? null, unit: 'KB', target: '≤ 20 KB', met: ours ? ours.perSessionKb <= 20 : null },
    { label: 'mcp-cluster 2 workers (Redis), RSS per idle session', value: ours2?.perSessionKb ?? null, unit: 'KB', target: '≤ 20 KB', met: ours2 ? ours2.perSessionKb <= 20 : null },
    { label: 'mcp-cluster 1 worker, from cold (one-time growth included)', value: ours?.fromColdKb ?? null, unit: 'KB', target: null, met: null },
    { label: 'mcp-cluster 2 workers (Redis), from cold (one-time growth included)', value: ours2?.fromColdKb ?? null, unit: 'KB', target: null, met: null },
    { label: 'SDK v1 session / mcp-cluster session (memory)', value: ratioOf(sdk?.perSessionKb, ours?.perSessionKb), unit: 'x', target: null, met: null },
  ];
  return {
    id: 'idle-memory',
    title: `3. ${count.toLocaleString('en-US')} idle sessions, each holding a GET stream: server RSS per session`,
    columns: ['sessions', 'RSS first MiB', 'RSS before MiB', 'RSS after MiB', 'KiB/session', 'KiB/session from cold', 'open s'],
    rows,
    comparisons,
    notes: [
      `RSS after a forced full GC (--expose-gc) in each server process, read with ${FIRST_SESSIONS} sessions open (first), with ${FIRST_SESSIONS + warm} (before) and with ${FIRST_SESSIONS + warm + count} (after)`,
      `KiB/session = (after − before) / ${count}: one more idle session on a warm server; from cold = (after − first) / ${warm + count}, which also spreads each process's one-time growth over the sessions`,
      'KB here = KiB (1024 bytes)',
    ],
    seconds: (performance.now() - started) / 1000,
    data: { results },
  };
}
