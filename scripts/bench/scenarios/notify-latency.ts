// Scenario 2: cross-process notify latency through Redis. A third process sends (mcp-cluster:
// createNotifier, the one PUBLISH per message that server.notify makes on any worker with the
// Redis broker; Socket.IO: a third Socket.IO server with the Redis adapter, io.to(socketId).emit;
// raw: a bare PUBLISH, the floor) and this process receives (a session's GET stream held by
// worker A / a Socket.IO client of server A / a Redis subscriber). Every message carries its
// send time; latency = receive - send on the system-wide monotonic clock. Then the sustained
// cluster-wide rate: receivers spread over both workers (both Socket.IO servers), the rate
// stepped up until p99 exceeds 10 ms or a message is lost.

import { performance } from 'node:perf_hooks';
import { startRedis, type RedisHandle } from '../../../test/helpers/redis.ts';
import { startMcpCluster, startPeer, stopAll, type Running } from '../lib/children.ts';
import type { BenchConfig } from '../lib/config.ts';
import { mcpReceiver, rawReceiver, settle, socketIoReceiver, Tally, type Receiver } from '../lib/receivers.ts';
import { ratioOf, type Comparison, type Row, type ScenarioResult } from '../lib/report.ts';
import { Sender } from '../lib/sender.ts';

const FIXED_RATES = [1_000, 5_000, 20_000];
const SWEEP_RATES = [5_000, 10_000, 15_000, 20_000, 25_000, 30_000, 40_000, 50_000, 60_000];
const SWEEP_RECEIVERS_PER_SERVER = 8;
const SUSTAINED_P99_MS = 10;

interface System {
  name: string;
  sender: Sender;
  fixed: Receiver[];
  sweep: Receiver[];
}

interface Step {
  system: string;
  rate: number;
  sent: number;
  received: number;
  lost: number;
  p50: number;
  p99: number;
  max: number;
  achievedRate: number;
}

let current = new Tally();
const sink = () => current;

async function step(system: System, receivers: Receiver[], rate: number, seconds: number): Promise<Step> {
  current = new Tally();
  const done = await system.sender.request<'rate-done'>({ type: 'rate', targets: receivers.map((r) => r.target), rate, seconds });
  await settle(current, done.sent);
  const tally = current;
  return {
    system: system.name,
    rate,
    sent: done.sent,
    received: tally.received,
    lost: Math.max(0, done.sent - tally.received),
    p50: tally.latency.quantile(0.5),
    p99: tally.latency.quantile(0.99),
    max: tally.latency.max(),
    achievedRate: done.sent / done.seconds,
  };
}

function passes(s: Step): boolean {
  return s.lost === 0 && s.p99 <= SUSTAINED_P99_MS;
}

export async function runNotifyLatency(config: BenchConfig, log: (line: string) => void): Promise<ScenarioResult> {
  const started = performance.now();
  const children: Running[] = [];
  const senders: Sender[] = [];
  const receivers: Receiver[] = [];
  let redis: RedisHandle | undefined;
  const fixed: Step[] = [];
  const sweep: Step[] = [];
  const sustained = new Map<string, number | null>();
  try {
    redis = await startRedis();
    const cluster = await startMcpCluster({ workers: 2, redisUrl: redis.url, args: ['--shutdown-timeout', '2000'] });
    children.push(cluster);
    const ioA = await startPeer('socket.io A', 'socketio.ts', ['--redis-url', redis.url]);
    const ioC = await startPeer('socket.io C', 'socketio.ts', ['--redis-url', redis.url]);
    children.push(ioA, ioC);
    const [mcpSender, ioSender, rawSender] = await Promise.all([Sender.start('mcp', redis.url), Sender.start('socketio', redis.url), Sender.start('raw', redis.url)]);
    senders.push(mcpSender, ioSender, rawSender);

    const track = <T extends Receiver>(r: T): T => {
      receivers.push(r);
      return r;
    };
    const mcp: System = { name: 'mcp-cluster (Redis broker)', sender: mcpSender, fixed: [], sweep: [] };
    const sio: System = { name: 'Socket.IO + redis-adapter', sender: ioSender, fixed: [], sweep: [] };
    const raw: System = { name: 'raw Redis pub/sub (floor)', sender: rawSender, fixed: [], sweep: [] };
    mcp.fixed.push(track(await mcpReceiver(cluster.url, 'w1', sink)));
    sio.fixed.push(track(await socketIoReceiver(ioA.url, 'A', sink)));
    raw.fixed.push(track(await rawReceiver(redis.url, 0, sink)));
    for (let i = 0; i < SWEEP_RECEIVERS_PER_SERVER; i++) {
      mcp.sweep.push(track(await mcpReceiver(cluster.url, 'w1', sink)), track(await mcpReceiver(cluster.url, 'w2', sink)));
      sio.sweep.push(track(await socketIoReceiver(ioA.url, 'A', sink)), track(await socketIoReceiver(ioC.url, 'C', sink)));
    }

    // Warm-up: JIT, connections, Redis.
    for (const system of [mcp, sio, raw]) await step(system, system.fixed, 1_000, 1);

    log('2: fixed rates, one receiver on worker/server A');
    for (const [index, rate] of FIXED_RATES.entries()) {
      const order = index % 2 === 0 ? [mcp, sio, raw] : [raw, sio, mcp];
      for (const system of order) {
        const s = await step(system, system.fixed, rate, config.notifySeconds);
        fixed.push(s);
        log(`   ${system.name} @ ${rate}/s: p50 ${s.p50.toFixed(3)} p99 ${s.p99.toFixed(3)} max ${s.max.toFixed(1)} ms, lost ${s.lost}`);
      }
    }

    log(`2: sustained cluster-wide rate, ${SWEEP_RECEIVERS_PER_SERVER * 2} receivers over 2 workers/servers`);
    const alive = new Set([mcp, sio]);
    for (const [index, rate] of SWEEP_RATES.entries()) {
      if (alive.size === 0) break;
      const order = index % 2 === 0 ? [mcp, sio] : [sio, mcp];
      for (const system of order) {
        if (!alive.has(system)) continue;
        const s = await step(system, system.sweep, rate, config.notifySeconds);
        sweep.push(s);
        const ok = passes(s);
        log(`   ${system.name} @ ${rate}/s (sent at ${Math.round(s.achievedRate)}/s): p50 ${s.p50.toFixed(3)} p99 ${s.p99.toFixed(3)} ms, lost ${s.lost} ${ok ? 'ok' : 'FAIL'}`);
        if (ok) sustained.set(system.name, rate);
        else {
          alive.delete(system);
          if (!sustained.has(system.name)) sustained.set(system.name, null);
        }
      }
    }
  } finally {
    await Promise.all(receivers.map((r) => r.close().catch(() => undefined)));
    await Promise.all(senders.map((s) => s.stop()));
    await stopAll(children);
    await redis?.stop();
  }

  const rows: Row[] = [];
  const rank = (name: string) => (name.startsWith('mcp-cluster') ? 0 : name.startsWith('Socket.IO') ? 1 : 2);
  fixed.sort((a, b) => a.rate - b.rate || rank(a.system) - rank(b.system));
  sweep.sort((a, b) => rank(a.system) - rank(b.system) || a.rate - b.rate);
  for (const s of fixed) {
    rows.push({ system: `${s.system} @ ${s.rate.toLocaleString('en-US')}/s`, cells: { 'p50 ms': s.p50, 'p99 ms': s.p99, 'max ms': s.max, sent: s.sent, 'sent/s': s.achievedRate, lost: s.lost } });
  }
  for (const s of sweep) {
    rows.push({
      system: `sweep: ${s.system} @ ${s.rate.toLocaleString('en-US')}/s`,
      cells: { 'p50 ms': s.p50, 'p99 ms': s.p99, 'max ms': s.max, sent: s.sent, 'sent/s': s.achievedRate, lost: s.lost },
    });
  }
  const at = (system: string, rate: number) => fixed.find((s) => s.system === system && s.rate === rate);
  const mcp5k = at('mcp-cluster (Redis broker)', 5_000);
  const io5k = at('Socket.IO + redis-adapter', 5_000);
  const mcpFixed = fixed.filter((s) => s.system === 'mcp-cluster (Redis broker)');
  const mcpSustained = sustained.get('mcp-cluster (Redis broker)') ?? null;
  const ioSustained = sustained.get('Socket.IO + redis-adapter') ?? null;
  const topped = (name: string) => sweep.filter((s) => s.system === name).every(passes);
  const comparisons: Comparison[] = [
    { label: 'mcp-cluster p50 at 5k msg/s', value: mcp5k?.p50 ?? null, unit: 'ms', target: '≤ 0.3 ms', met: mcp5k ? mcp5k.p50 <= 0.3 : null },
    { label: 'mcp-cluster p99 at 5k msg/s', value: mcp5k?.p99 ?? null, unit: 'ms', target: '≤ 2 ms', met: mcp5k ? mcp5k.p99 <= 2 : null },
    { label: 'mcp-cluster lost at 1k/5k/20k msg/s', value: mcpFixed.reduce((sum, s) => sum + s.lost, 0), unit: 'messages', target: '0', met: mcpFixed.length > 0 && mcpFixed.every((s) => s.lost === 0) },
    {
      label: 'mcp-cluster sustained cluster-wide rate (p99 ≤ 10 ms, none lost)',
      value: mcpSustained,
      unit: 'msg/s',
      target: '≥ 25,000 msg/s',
      met: mcpSustained === null ? false : mcpSustained >= 25_000,
      ...(topped('mcp-cluster (Redis broker)')
        ? { detail: `passed every step up to ${SWEEP_RATES.at(-1)!.toLocaleString('en-US')}/s: the bench's ceiling, not the server's` }
        : mcpSustained === null
          ? { detail: `failed already at ${SWEEP_RATES[0]!.toLocaleString('en-US')}/s` }
          : {}),
    },
    {
      label: 'Socket.IO sustained rate, same method',
      value: ioSustained,
      unit: 'msg/s',
      target: null,
      met: null,
      ...(ioSustained === null ? { detail: `failed already at ${SWEEP_RATES[0]!.toLocaleString('en-US')}/s` } : {}),
    },
    { label: 'p50 at 5k msg/s, Socket.IO / mcp-cluster', value: ratioOf(io5k?.p50, mcp5k?.p50), unit: 'x', target: null, met: null },
    { label: 'p99 at 5k msg/s, Socket.IO / mcp-cluster', value: ratioOf(io5k?.p99, mcp5k?.p99), unit: 'x', target: null, met: null },
  ];
  return {
    id: 'notify-latency',
    title: `2. cross-process notify latency through Redis (${config.notifySeconds} s per step)`,
    columns: ['p50 ms', 'p99 ms', 'max ms', 'sent', 'sent/s', 'lost'],
    rows,
    comparisons,
    notes: [
      'sender is a separate process: mcp-cluster = createNotifier (same PUBLISH as server.notify on worker B); Socket.IO = a third server with the Redis adapter',
      'ratios > 1 mean mcp-cluster is faster',
    ],
    seconds: (performance.now() - started) / 1000,
    data: { fixed, sweep, sustained: Object.fromEntries(sustained) },
  };
}
