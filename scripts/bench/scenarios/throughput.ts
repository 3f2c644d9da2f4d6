// Scenario 1: `tools/call` echo under a closed loop of N connections, mcp-cluster and its peer
// alternating in one run:
//   a. mcp-cluster, 1 worker (memory)             vs  bare node:http JSON handler (the ceiling)
//   b. mcp-cluster, 2 workers (Redis sessions)    vs  SDK v1 stateful (+ SDK v1 stateless, reference)
//   c. mcp-cluster, 2026-07-28 stateless path     vs  SDK v2 createMcpHandler, 2026-07-28
//                                                     (+ SDK v2 2025-era stateless fallback, reference)
// 2025-era clients use one long-lived initialized session per connection (Mcp-Session-Id on
// every request); mcp-cluster answers on SSE, its default.

import { performance } from 'node:perf_hooks';
import { startRedis, type RedisHandle } from '../../../test/helpers/redis.ts';
import { startMcpCluster, startPeer, stopAll, type Running } from '../lib/children.ts';
import type { BenchConfig } from '../lib/config.ts';
import { closedLoop, type Call, type LoadResult } from '../lib/load.ts';
import { McpConnection, messagesOf, modernHeaders, modernMeta } from '../lib/mcp.ts';
import { ratioOf, type Comparison, type Row, type ScenarioResult } from '../lib/report.ts';
import { Samples } from '../lib/stats.ts';

type Era = 'session' | 'plain' | 'modern';

interface Target {
  system: string;
  url: string;
  era: Era;
}

interface Measured {
  system: string;
  requests: number;
  errors: number;
  seconds: number;
  latency: Samples;
  unavailable?: string;
}

const TEXT = 'hello from the bench';

function echoBody(id: number, era: Era): string {
  const params: Record<string, unknown> = { name: 'echo', arguments: { text: TEXT } };
  if (era === 'modern') params._meta = modernMeta();
  return JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params });
}

/** A client of `target` on its own connection, with its session opened; returns its call. */
async function makeClient(target: Target): Promise<{ call: Call; connection: McpConnection }> {
  const connection = new McpConnection(target.url);
  if (target.era === 'session') await connection.initialize();
  const extra = target.era === 'modern' ? modernHeaders('tools/call', 'echo') : {};
  // Checked in full once: the right tool answered with the right text.
  const result = await connection.request('tools/call', JSON.parse(echoBody(0, target.era)).params, extra);
  const content = result.content as Array<{ text?: string }> | undefined;
  if (content?.[0]?.text !== TEXT || result.isError) throw new Error(`${target.system}: unexpected echo result ${JSON.stringify(result)}`);
  // Hot path: status and the presence of a result, without parsing (client CPU is server CPU here).
  const call: Call = async () => {
    const reply = await connection.post(echoBody(connection.nextId(), target.era), extra);
    return reply.status === 200 && reply.text.includes('"result"') && !reply.text.includes('"isError":true');
  };
  return { call, connection };
}

/** Whether `url` serves the 2026-07-28 era: server/discover, then an enveloped echo call. */
export async function probeModern(url: string): Promise<{ ok: true } | { ok: false; why: string }> {
  const connection = new McpConnection(url);
  try {
    const id = connection.nextId();
    const discover = await connection.post({ jsonrpc: '2.0', id, method: 'server/discover', params: { _meta: modernMeta() } }, modernHeaders('server/discover'));
    const discovered = discover.status === 200 ? messagesOf(discover).find((m) => m.id === id) : undefined;
    if (!discovered || !('result' in discovered)) {
      return { ok: false, why: `server/discover → HTTP ${discover.status} ${discover.text.slice(0, 160).replace(/\s+/g, ' ')}` };
    }
    const call = await connection.post(echoBody(connection.nextId(), 'modern'), modernHeaders('tools/call', 'echo'));
    if (call.status !== 200 || !call.text.includes(TEXT)) {
      return { ok: false, why: `2026-07-28 tools/call → HTTP ${call.status} ${call.text.slice(0, 160).replace(/\s+/g, ' ')}` };
    }
    return { ok: true };
  } catch (error) {
    return { ok: false, why: (error as Error).message };
  } finally {
    await connection.close();
  }
}

/** Runs every target of a comparison, alternating, `rounds` times; order flips each round. */
async function alternate(targets: Target[], config: BenchConfig, log: (line: string) => void): Promise<Measured[]> {
  const clients = new Map<Target, Array<{ call: Call; connection: McpConnection }>>();
  const measured = new Map<Target, Measured>();
  for (const target of targets) {
    const list = [];
    for (let i = 0; i < config.connections; i++) list.push(await makeClient(target));
    clients.set(target, list);
    measured.set(target, { system: target.system, requests: 0, errors: 0, seconds: 0, latency: new Samples() });
    await closedLoop(list.map((c) => c.call), config.warmupSeconds * 1000);
  }
  const sliceMs = (config.seconds / config.rounds) * 1000;
  for (let round = 0; round < config.rounds; round++) {
    const order = round % 2 === 0 ? targets : [...targets].reverse();
    for (const target of order) {
      const result: LoadResult = await closedLoop(clients.get(target)!.map((c) => c.call), sliceMs);
      const m = measured.get(target)!;
      m.requests += result.requests;
      m.errors += result.errors;
      m.seconds += result.seconds;
      m.latency.addAll(result.latency);
      log(`   round ${round + 1}: ${target.system}: ${Math.round(result.requests / result.seconds)} req/s, p99 ${result.latency.quantile(0.99).toFixed(2)} ms${result.errors ? `, ${result.errors} errors` : ''}`);
    }
  }
  for (const list of clients.values()) {
    await Promise.all(list.map(async (c) => {
      await c.connection.deleteSession().catch(() => undefined);
      await c.connection.close();
    }));
  }
  return targets.map((target) => measured.get(target)!);
}

function row(m: Measured): Row {
  if (m.unavailable) return { system: m.system, cells: { 'req/s': 'not available', 'p50 ms': null, 'p99 ms': null, errors: null } };
  return {
    system: m.system,
    cells: {
      'req/s': m.requests / m.seconds,
      'p50 ms': m.latency.quantile(0.5),
      'p99 ms': m.latency.quantile(0.99),
      errors: m.errors,
    },
  };
}

function rps(m: Measured | undefined): number | null {
  return m && !m.unavailable && m.seconds > 0 ? m.requests / m.seconds : null;
}

function compare(label: string, ours: Measured | undefined, peer: Measured | undefined, min: number, detail?: string): Comparison {
  const ratio = ratioOf(rps(ours), rps(peer));
  return { label, value: ratio, unit: 'x', target: `≥ ${min}x`, met: ratio === null ? null : ratio >= min, ...(detail ? { detail } : {}) };
}

export async function runThroughput(config: BenchConfig, log: (line: string) => void): Promise<ScenarioResult> {
  const started = performance.now();
  const all: Measured[] = [];
  const comparisons: Comparison[] = [];
  const notes: string[] = [];
  const children: Running[] = [];
  let redis: RedisHandle | undefined;
  try {
    // a. one worker vs the ceiling
    log('1a: mcp-cluster 1 worker vs bare node:http');
    const single = await startMcpCluster({ workers: 1 });
    children.push(single);
    const bare = await startPeer('bare-http', 'bare-http.ts');
    children.push(bare);
    const a = await alternate(
      [
        { system: 'mcp-cluster 1 worker (memory)', url: single.url, era: 'session' },
        { system: 'bare node:http (ceiling)', url: bare.url, era: 'plain' },
      ],
      config,
      log,
    );
    all.push(...a);
    comparisons.push(compare('1 worker / bare node:http', a[0], a[1], 0.6));

    // c. the 2026 era, while the single worker is up
    log('1c: 2026-07-28 path vs SDK v2');
    const v2 = await startPeer('sdk-v2', 'sdk-v2.ts');
    children.push(v2);
    const probe = await probeModern(single.url);
    const cTargets: Target[] = [];
    if (probe.ok) cTargets.push({ system: 'mcp-cluster 1 worker, 2026-07-28', url: single.url, era: 'modern' });
    cTargets.push({ system: 'SDK v2 createMcpHandler, 2026-07-28', url: v2.url, era: 'modern' });
    cTargets.push({ system: 'SDK v2 2025 stateless fallback (ref)', url: v2.url, era: 'plain' });
    const c = await alternate(cTargets, config, log);
    const ours2026: Measured = probe.ok ? c[0]! : { system: 'mcp-cluster 1 worker, 2026-07-28', requests: 0, errors: 0, seconds: 0, latency: new Samples(), unavailable: probe.why };
    if (!probe.ok) notes.push(`2026-07-28 path not available in mcp-cluster yet (${probe.why})`);
    const v2Modern = c.find((m) => m.system.startsWith('SDK v2 createMcpHandler'));
    await stopAll([single, bare, v2]);

    // b. two workers with Redis sessions vs the SDK's stateful mode
    log('1b: mcp-cluster 2 workers (Redis) vs SDK v1');
    redis = await startRedis();
    const pair = await startMcpCluster({ workers: 2, redisUrl: redis.url, args: ['--shutdown-timeout', '2000'] });
    children.push(pair);
    const v1 = await startPeer('sdk-v1-stateful', 'sdk-v1.ts', ['--mode', 'stateful']);
    children.push(v1);
    const v1s = await startPeer('sdk-v1-stateless', 'sdk-v1.ts', ['--mode', 'stateless']);
    children.push(v1s);
    const b = await alternate(
      [
        { system: 'mcp-cluster 2 workers (Redis sessions)', url: pair.url, era: 'session' },
        { system: 'SDK v1 stateful', url: v1.url, era: 'session' },
        { system: 'SDK v1 stateless (ref)', url: v1s.url, era: 'plain' },
      ],
      config,
      log,
    );
    all.push(...b);
    comparisons.push(compare('2 workers (Redis) / SDK v1 stateful', b[0], b[1], 4));
    all.push(ours2026, ...c.filter((m) => m !== ours2026));
    comparisons.push(compare('2026-07-28 path / SDK v2 (2026-07-28)', ours2026, v2Modern, 10, probe.ok ? undefined : 'not available in mcp-cluster yet'));
  } finally {
    await stopAll(children);
    await redis?.stop();
  }
  return {
    id: 'tools-call',
    title: `1. tools/call echo, ${config.connections} connections, ${config.seconds} s per system in ${config.rounds} alternating rounds`,
    columns: ['req/s', 'p50 ms', 'p99 ms', 'errors'],
    rows: all.map(row),
    comparisons,
    notes,
    seconds: (performance.now() - started) / 1000,
  };
}
