// Scenario 4: one message to every one of N sessions held by 2 workers (Redis broker): the time
// from the send until the last session has it.
//   a. mcp-cluster: `broadcast` from a process with only a Redis URL (createNotifier) as soon as
//      the library has one; until then, N notifies from one sender (labelled so).
//      Peer: Socket.IO + redis-adapter, N clients over 2 servers, sent from a third server:
//      io.emit() (its broadcast) and io.to(id).emit() N times (like for like with N notifies).
//   b. 2026-07-28 `subscriptions/listen`: N listeners of one resource topic, one update. mcp-cluster
//      is probed and reported "not available" until it serves the 2026 era; the SDK v2 handler
//      (one process, in-memory event bus) is measured as the reference.

import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { startRedis, type RedisHandle } from '../../../test/helpers/redis.ts';
import { McpServer } from '../../../src/mcp/server.ts';
import { startMcpCluster, startPeer, stopAll, type Running } from '../lib/children.ts';
import { nowUs } from '../lib/clock.ts';
import type { BenchConfig } from '../lib/config.ts';
import { mapLimit, McpConnection, modernHeaders, modernMeta, openSse, type SseStreamHandle } from '../lib/mcp.ts';
import { socketIoReceiver, Tally } from '../lib/receivers.ts';
import type { Comparison, Row, ScenarioResult } from '../lib/report.ts';
import { Sender } from '../lib/sender.ts';
import { openSessionStreams, type SessionStreams } from '../lib/sessions.ts';
import { median } from '../lib/stats.ts';

const ROUNDS = 5;
const ROUND_TIMEOUT_MS = 15_000;
const TOPIC = 'bench://topic';
const DEMO_TOPIC = 'demo://readme';

/** Arrival (µs) of each receiver's first message in the current round. */
class Arrivals {
  readonly #times: Float64Array;
  count = 0;
  active = false;

  constructor(size: number) {
    this.#times = new Float64Array(size).fill(Number.NaN);
  }

  reset(): void {
    this.#times.fill(Number.NaN);
    this.count = 0;
    this.active = true;
  }

  hit(index: number): void {
    if (!this.active || !Number.isNaN(this.#times[index]!)) return;
    this.#times[index] = nowUs();
    this.count++;
  }

  async wait(expected: number, timeoutMs = ROUND_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.count < expected && Date.now() < deadline) await delay(5);
    this.active = false;
  }

  /** ms from t0 until the last arrival, and the median arrival. */
  summary(t0: number): { lastMs: number; p50Ms: number; received: number } {
    const arrived = [...this.#times].filter((t) => !Number.isNaN(t)).map((t) => (t - t0) / 1000);
    return { lastMs: arrived.length ? Math.max(...arrived) : Number.NaN, p50Ms: median(arrived), received: arrived.length };
  }
}

interface Measured {
  system: string;
  mode: string;
  receivers: number;
  rounds: Array<{ lastMs: number; p50Ms: number; received: number }>;
  unavailable?: string;
}

function rowOf(m: Measured): Row {
  if (m.unavailable) return { system: m.system, cells: { mode: 'not available', receivers: m.receivers, 'last ms (median)': null, 'last ms (worst)': null, 'p50 ms': null, missing: null } };
  const last = m.rounds.map((r) => r.lastMs);
  return {
    system: m.system,
    cells: {
      mode: m.mode,
      receivers: m.receivers,
      'last ms (median)': median(last),
      'last ms (worst)': Math.max(...last),
      'p50 ms': median(m.rounds.map((r) => r.p50Ms)),
      missing: m.rounds.reduce((sum, r) => sum + (m.receivers - r.received), 0),
    },
  };
}

/** Whether `url` serves 2026-07-28 subscriptions/listen: the acknowledgement arrives. */
async function probeListen(url: string, uri: string): Promise<{ ok: true } | { ok: false; why: string }> {
  let stream: SseStreamHandle | undefined;
  try {
    let acknowledged = false;
    stream = await openSse(url, {
      method: 'POST',
      headers: { accept: 'application/json, text/event-stream', 'content-type': 'application/json', ...modernHeaders('subscriptions/listen') },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'subscriptions/listen', params: { _meta: modernMeta(), notifications: { resourceSubscriptions: [uri] } } }),
      onEvent: (event) => {
        if (event.data.includes('notifications/subscriptions/acknowledged')) acknowledged = true;
      },
    });
    if (stream.status !== 200) {
      // Not a stream: read what the server said.
      const connection = new McpConnection(url);
      try {
        const reply = await connection.post({ jsonrpc: '2.0', id: 1, method: 'subscriptions/listen', params: { _meta: modernMeta(), notifications: { resourceSubscriptions: [uri] } } }, modernHeaders('subscriptions/listen'));
        return { ok: false, why: `subscriptions/listen → HTTP ${reply.status} ${reply.text.slice(0, 160).replace(/\s+/g, ' ')}` };
      } finally {
        await connection.close();
      }
    }
    const deadline = Date.now() + 3000;
    while (!acknowledged && Date.now() < deadline) await delay(10);
    return acknowledged ? { ok: true } : { ok: false, why: 'subscriptions/listen: no acknowledgement within 3 s' };
  } catch (error) {
    return { ok: false, why: (error as Error).message };
  } finally {
    await stream?.close();
  }
}

async function openListeners(url: string, count: number, uri: string, arrivals: Arrivals): Promise<SseStreamHandle[]> {
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'subscriptions/listen', params: { _meta: modernMeta(), notifications: { resourceSubscriptions: [uri] } } });
  return mapLimit(Array.from({ length: count }, (_, i) => i), 50, async (i) => {
    const stream = await openSse(url, {
      method: 'POST',
      headers: { accept: 'application/json, text/event-stream', 'content-type': 'application/json', ...modernHeaders('subscriptions/listen') },
      body,
      onEvent: (event) => {
        if (event.data.includes('notifications/resources/updated')) arrivals.hit(i);
      },
    });
    if (stream.status !== 200) throw new Error(`subscriptions/listen: HTTP ${stream.status}`);
    return stream;
  });
}

export async function runBroadcast(config: BenchConfig, log: (line: string) => void): Promise<ScenarioResult> {
  const started = performance.now();
  const n = config.sessions;
  const children: Running[] = [];
  const senders: Sender[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  let redis: RedisHandle | undefined;
  const measured: Measured[] = [];
  const notes: string[] = [];
  try {
    redis = await startRedis();
    const cluster = await startMcpCluster({ workers: 2, redisUrl: redis.url, args: ['--shutdown-timeout', '2000'] });
    children.push(cluster);
    const ioA = await startPeer('socket.io A', 'socketio.ts', ['--redis-url', redis.url]);
    const ioC = await startPeer('socket.io C', 'socketio.ts', ['--redis-url', redis.url]);
    children.push(ioA, ioC);
    const [mcpSender, ioSender] = await Promise.all([Sender.start('mcp', redis.url), Sender.start('socketio', redis.url)]);
    senders.push(mcpSender, ioSender);

    // a. N sessions over 2 workers
    const mcpArrivals = new Arrivals(n);
    const sessions: SessionStreams = await openSessionStreams(cluster.url, n, { onEvent: (index) => mcpArrivals.hit(index) });
    cleanups.push(() => sessions.close());
    log(`4a: ${n} sessions with GET streams, by worker ${JSON.stringify(sessions.byWorker())}`);
    const ioArrivals = new Arrivals(n);
    const sockets = await mapLimit(Array.from({ length: n }, (_, i) => i), 50, async (i) => {
      const receiver = await socketIoReceiver(i % 2 === 0 ? ioA.url : ioC.url, i % 2 === 0 ? 'A' : 'C', () => new Tally());
      receiver.socket.on('tick', () => ioArrivals.hit(i));
      return receiver;
    });
    cleanups.push(async () => {
      await Promise.all(sockets.map((s) => s.close()));
    });
    log(`4a: ${n} Socket.IO clients over 2 servers`);

    // The broadcast API, in order of preference: from a process with only a Redis URL
    // (createNotifier), through the app's `broadcast` tool (server.broadcast() on a worker), or,
    // while neither exists, N notifies from one sender.
    const caller = new McpConnection(cluster.url);
    await caller.initialize();
    cleanups.push(async () => {
      await caller.deleteSession().catch(() => undefined);
      await caller.close();
    });
    const tools = ((await caller.request('tools/list', {})).tools as Array<{ name: string }>).map((tool) => tool.name);
    const hasTool = tools.includes('broadcast');
    const serverHasBroadcast = typeof (McpServer.prototype as unknown as { broadcast?: unknown }).broadcast === 'function';
    const mcpMode = mcpSender.hasBroadcast ? 'broadcast (notifier)' : hasTool ? 'broadcast tool (server.broadcast)' : `notify x ${n} (no broadcast API)`;
    if (!mcpSender.hasBroadcast && !hasTool) {
      notes.push(
        serverHasBroadcast
          ? `server.broadcast() exists, but neither createNotifier nor an app tool exposes it: measured ${n} notifies from one sender instead`
          : `no broadcast API in mcp-cluster yet: measured ${n} notifies from one sender instead (switches to a broadcast once there is one)`,
      );
    }
    if (hasTool && !mcpSender.hasBroadcast) notes.push('mcp-cluster broadcast: the demo app\'s `broadcast` tool (server.broadcast) called over HTTP; the time includes that tools/call');
    const mcpSend = async () => {
      if (mcpSender.hasBroadcast) return mcpSender.request({ type: 'broadcast', tag: 0 });
      if (hasTool) return caller.request('tools/call', { name: 'broadcast', arguments: { kind: 'message', text: 'bench' } });
      return mcpSender.request({ type: 'fanout', targets: sessions.sessionIds, tag: 0 });
    };
    const mcp: Measured = { system: 'mcp-cluster 2 workers (Redis)', mode: mcpMode, receivers: n, rounds: [] };
    const ioBroadcast: Measured = { system: 'Socket.IO + redis-adapter', mode: 'io.emit (broadcast)', receivers: n, rounds: [] };
    const ioFanout: Measured = { system: 'Socket.IO + redis-adapter', mode: `io.to(id).emit x ${n}`, receivers: n, rounds: [] };
    const runs: Array<[Measured, Arrivals, () => Promise<unknown>]> = [
      [mcp, mcpArrivals, mcpSend],
      [ioBroadcast, ioArrivals, () => ioSender.request({ type: 'broadcast', tag: 0 })],
      [ioFanout, ioArrivals, () => ioSender.request({ type: 'fanout', targets: sockets.map((s) => s.target), tag: 0 })],
    ];
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? runs : [...runs].reverse();
      for (const [m, arrivals, send] of order) {
        arrivals.reset();
        const t0 = nowUs();
        await send();
        await arrivals.wait(n);
        const summary = arrivals.summary(t0);
        m.rounds.push(summary);
        log(`   round ${round + 1}: ${m.system}, ${m.mode}: last after ${summary.lastMs.toFixed(1)} ms, ${summary.received}/${n}`);
        await delay(200);
      }
    }
    measured.push(mcp, ioBroadcast, ioFanout);
    for (const cleanup of cleanups.splice(0)) await cleanup();

    // b. 2026-07-28 subscriptions/listen: N listeners of one topic
    const v2 = await startPeer('sdk-v2', 'sdk-v2.ts');
    children.push(v2);
    const probe = await probeListen(cluster.url, DEMO_TOPIC);
    const listen: Measured = { system: 'mcp-cluster 2 workers, 2026 subscriptions/listen', mode: 'notifier.resourceUpdated', receivers: n, rounds: [] };
    if (probe.ok) {
      const arrivals = new Arrivals(n);
      const opened = performance.now();
      const streams = await openListeners(cluster.url, n, DEMO_TOPIC, arrivals);
      log(`4b: ${n} mcp-cluster listen streams opened in ${((performance.now() - opened) / 1000).toFixed(1)} s`);
      cleanups.push(async () => {
        await mapLimit(streams, 500, (s) => s.close());
      });
      const trigger = new McpConnection(cluster.url);
      cleanups.push(() => trigger.close());
      // The app's touch_resource tool (server.resourceUpdated on a worker) on a 2026 request;
      // createNotifier's resourceUpdated when the app has no such tool.
      const touch = tools.includes('touch_resource')
        ? () => trigger.request('tools/call', { name: 'touch_resource', arguments: { uri: DEMO_TOPIC }, _meta: modernMeta() }, modernHeaders('tools/call', 'touch_resource'))
        : () => mcpSender.request({ type: 'resource-updated', uri: DEMO_TOPIC });
      listen.mode = tools.includes('touch_resource') ? 'touch_resource tool (server.resourceUpdated)' : 'notifier.resourceUpdated';
      for (let round = 0; round < ROUNDS; round++) {
        arrivals.reset();
        const t0 = nowUs();
        await touch();
        await arrivals.wait(n);
        const summary = arrivals.summary(t0);
        listen.rounds.push(summary);
        log(`   round ${round + 1}: mcp-cluster listen: last after ${summary.lastMs.toFixed(1)} ms, ${summary.received}/${n}`);
        await delay(200);
      }
    } else {
      listen.unavailable = probe.why;
      notes.push(`2026 subscriptions/listen not available in mcp-cluster yet (${probe.why})`);
    }
    const v2Listen: Measured = { system: 'SDK v2 createMcpHandler (1 process), subscriptions/listen', mode: 'handler.notify.resourceUpdated', receivers: n, rounds: [] };
    {
      const arrivals = new Arrivals(n);
      const opened = performance.now();
      const streams = await openListeners(v2.url, n, TOPIC, arrivals);
      log(`4b: ${n} SDK v2 listen streams opened in ${((performance.now() - opened) / 1000).toFixed(1)} s`);
      cleanups.push(async () => {
        await mapLimit(streams, 500, (s) => s.close());
      });
      const trigger = new McpConnection(v2.url);
      cleanups.push(() => trigger.close());
      for (let round = 0; round < ROUNDS; round++) {
        arrivals.reset();
        const t0 = nowUs();
        const res = await trigger.client.request({ path: '/bench/resource-updated', method: 'POST', body: '' });
        await res.body.dump();
        await arrivals.wait(n);
        const summary = arrivals.summary(t0);
        v2Listen.rounds.push(summary);
        log(`   round ${round + 1}: SDK v2 listen: last after ${summary.lastMs.toFixed(1)} ms, ${summary.received}/${n}`);
        await delay(200);
      }
    }
    measured.push(listen, v2Listen);
  } finally {
    for (const cleanup of cleanups.splice(0)) await cleanup().catch(() => undefined);
    await Promise.all(senders.map((s) => s.stop()));
    await stopAll(children);
    await redis?.stop();
  }
  const lastOf = (m: Measured | undefined) => (m && !m.unavailable && m.rounds.length ? median(m.rounds.map((r) => r.lastMs)) : null);
  const [mcp, ioBroadcast, ioFanout, listen, v2Listen] = measured;
  const ratio = (peer: Measured | undefined, ours: Measured | undefined) => {
    const a = lastOf(peer);
    const b = lastOf(ours);
    return a === null || b === null || b === 0 ? null : a / b;
  };
  const comparisons: Comparison[] = [
    { label: `mcp-cluster: time until the last of ${n} sessions has it (median of ${ROUNDS})`, value: lastOf(mcp), unit: 'ms', target: null, met: null, detail: mcp?.mode ?? '' },
    { label: 'Socket.IO io.emit / mcp-cluster (time to last)', value: ratio(ioBroadcast, mcp), unit: 'x', target: null, met: null },
    { label: `Socket.IO io.to(id).emit x ${n} / mcp-cluster (time to last)`, value: ratio(ioFanout, mcp), unit: 'x', target: null, met: null },
    { label: `2026 subscriptions/listen, ${n} listeners: time to last`, value: lastOf(listen), unit: 'ms', target: null, met: null, ...(listen?.unavailable ? { detail: 'not available in mcp-cluster yet' } : {}) },
    { label: 'SDK v2 listen / mcp-cluster listen (time to last)', value: ratio(v2Listen, listen), unit: 'x', target: null, met: null },
  ];
  return {
    id: 'broadcast',
    title: `4. one message to ${n.toLocaleString('en-US')} receivers over 2 workers/servers: time until the last has it`,
    columns: ['mode', 'receivers', 'last ms (median)', 'last ms (worst)', 'p50 ms', 'missing'],
    rows: measured.map(rowOf),
    comparisons,
    notes: [...notes, `${ROUNDS} rounds per system, alternating; ratios > 1 mean mcp-cluster is faster`],
    seconds: (performance.now() - started) / 1000,
    data: { measured },
  };
}
