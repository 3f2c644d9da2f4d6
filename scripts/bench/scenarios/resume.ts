// Scenario 5: resume after missed events (--replay). A session's GET stream receives one event,
// disconnects; N events are sent to the session while it is away (retained by the replay
// buffer); the client reconnects with Last-Event-ID. Measured: from sending that GET until the
// N-th missed event arrived (all N, in order). Peer: SDK v1 stateful with an EventStore.

import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { startRedis, type RedisHandle } from '../../../test/helpers/redis.ts';
import { startMcpCluster, startPeer, stopAll, type Running } from '../lib/children.ts';
import type { BenchConfig } from '../lib/config.ts';
import { McpConnection, openSse, streamHeaders, type SseStreamHandle } from '../lib/mcp.ts';
import { ratioOf, type Comparison, type Row, type ScenarioResult } from '../lib/report.ts';
import { median } from '../lib/stats.ts';

const ROUNDS = 3;
const CATCH_UP_TIMEOUT_MS = 20_000;

interface System {
  name: string;
  url: string;
  /** Arguments of the ticker tool for `count` ticks to this session's GET stream. */
  tickerArgs(sessionId: string, count: number): Record<string, unknown>;
}

interface Round {
  catchUpMs: number;
  firstMs: number;
  received: number;
  inOrder: boolean;
}

function tickOf(data: string): number | undefined {
  const message = JSON.parse(data) as { params?: { data?: { tick?: unknown } } };
  const tick = message.params?.data?.tick;
  return typeof tick === 'number' ? tick : undefined;
}

async function waitUntil(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) return false;
    await delay(2);
  }
  return true;
}

async function resumeOnce(system: System, missed: number): Promise<Round> {
  const connection = new McpConnection(system.url);
  let stream: SseStreamHandle | undefined;
  try {
    const sessionId = await connection.initialize();
    // 1. Attached: one event, whose id is the resume point.
    let seen = 0;
    stream = await openSse(system.url, { headers: streamHeaders(connection), onEvent: (event) => tickOf(event.data) !== undefined && seen++ });
    await connection.request('tools/call', { name: 'ticker', arguments: system.tickerArgs(sessionId, 1) });
    if (!(await waitUntil(() => seen >= 1, 5_000))) throw new Error(`${system.name}: the first event never arrived`);
    const lastEventId = stream.lastEventId;
    if (!lastEventId) throw new Error(`${system.name}: events carry no id (is replay on?)`);
    await stream.close();
    stream = undefined;
    await delay(200); // the server notices the disconnect
    // 2. Away: N events, retained.
    await connection.request('tools/call', { name: 'ticker', arguments: system.tickerArgs(sessionId, missed) });
    // 3. Back with Last-Event-ID.
    const ticks: number[] = [];
    let firstAt = Number.NaN;
    let lastAt = Number.NaN;
    const sent = performance.now();
    stream = await openSse(system.url, {
      headers: streamHeaders(connection, { 'last-event-id': lastEventId }),
      onEvent: (event) => {
        const tick = tickOf(event.data);
        if (tick === undefined) return;
        if (ticks.length === 0) firstAt = performance.now();
        ticks.push(tick);
        if (tick === missed) lastAt = performance.now();
      },
    });
    if (stream.status !== 200) throw new Error(`${system.name}: resume GET → HTTP ${stream.status}`);
    await waitUntil(() => !Number.isNaN(lastAt), CATCH_UP_TIMEOUT_MS);
    const inOrder = ticks.every((tick, index) => tick === index + 1);
    return { catchUpMs: lastAt - sent, firstMs: firstAt - sent, received: ticks.length, inOrder };
  } finally {
    await stream?.close();
    await connection.deleteSession().catch(() => undefined);
    await connection.close();
  }
}

export async function runResume(config: BenchConfig, log: (line: string) => void): Promise<ScenarioResult> {
  const started = performance.now();
  const missed = config.missed;
  const children: Running[] = [];
  let redis: RedisHandle | undefined;
  const results = new Map<string, Round[]>();
  try {
    redis = await startRedis();
    const pair = await startMcpCluster({ workers: 2, redisUrl: redis.url, replay: true, args: ['--shutdown-timeout', '2000', '--replay-max-length', String(Math.max(1000, missed * 2))] });
    const single = await startMcpCluster({ workers: 1, replay: true, args: ['--shutdown-timeout', '2000', '--replay-max-length', String(Math.max(1000, missed * 2))] });
    const v1 = await startPeer('sdk-v1-replay', 'sdk-v1.ts', ['--mode', 'stateful', '--replay']);
    children.push(pair, single, v1);
    const ours = (sessionId: string, count: number) => ({ sessionId, count, perSecond: 50_000 });
    const systems: System[] = [
      { name: 'mcp-cluster 2 workers (Redis replay)', url: pair.url, tickerArgs: ours },
      { name: 'mcp-cluster 1 worker (memory replay)', url: single.url, tickerArgs: ours },
      { name: 'SDK v1 stateful + EventStore (in memory)', url: v1.url, tickerArgs: (_id, count) => ({ count }) },
    ];
    for (const system of systems) {
      results.set(system.name, []);
      await resumeOnce(system, 10); // warm-up
    }
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? systems : [...systems].reverse();
      for (const system of order) {
        const r = await resumeOnce(system, missed);
        results.get(system.name)!.push(r);
        log(`   round ${round + 1}: ${system.name}: caught up ${r.received}/${missed} in ${r.catchUpMs.toFixed(1)} ms (first after ${r.firstMs.toFixed(1)} ms)${r.inOrder ? '' : ' OUT OF ORDER'}`);
      }
    }
  } finally {
    await stopAll(children);
    await redis?.stop();
  }
  const rows: Row[] = [...results].map(([system, rounds]) => ({
    system,
    cells: {
      missed,
      'caught up ms (median)': median(rounds.map((r) => r.catchUpMs)),
      'caught up ms (worst)': Math.max(...rounds.map((r) => r.catchUpMs)),
      'first event ms': median(rounds.map((r) => r.firstMs)),
      'received (min)': Math.min(...rounds.map((r) => r.received)),
      'in order': rounds.every((r) => r.inOrder) ? 'yes' : 'NO',
    },
  }));
  const catchUp = (name: string) => {
    const rounds = results.get(name);
    return rounds?.length ? median(rounds.map((r) => r.catchUpMs)) : null;
  };
  const ourPair = catchUp('mcp-cluster 2 workers (Redis replay)');
  const sdk = catchUp('SDK v1 stateful + EventStore (in memory)');
  const comparisons: Comparison[] = [
    { label: `mcp-cluster 2 workers (Redis): resume after ${missed} missed events, time to caught up`, value: ourPair, unit: 'ms', target: null, met: null },
    { label: 'SDK v1 (in-memory store) / mcp-cluster 2 workers (Redis)', value: ratioOf(sdk, ourPair), unit: 'x', target: null, met: null },
    { label: 'SDK v1 / mcp-cluster 1 worker (both in memory)', value: ratioOf(sdk, catchUp('mcp-cluster 1 worker (memory replay)')), unit: 'x', target: null, met: null },
  ];
  return {
    id: 'resume',
    title: `5. resume after ${missed.toLocaleString('en-US')} missed events (GET with Last-Event-ID until caught up)`,
    columns: ['missed', 'caught up ms (median)', 'caught up ms (worst)', 'first event ms', 'received (min)', 'in order'],
    rows,
    comparisons,
    notes: [`${ROUNDS} rounds per system, alternating; ratios > 1 mean mcp-cluster is faster`, 'SDK v1 uses a minimal ordered in-memory EventStore written for the bench (its example store sorts every event on each replay)'],
    seconds: (performance.now() - started) / 1000,
    data: { results: Object.fromEntries(results) },
  };
}
