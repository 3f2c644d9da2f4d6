// What a CPU-bound tool costs the other clients of a worker: the same `count_primes` handler run
// inline on the event loop, then on the thread pool, under the same load. Reports the event
// loop's delay (perf_hooks.monitorEventLoopDelay), the latency of `ping`s sent meanwhile by
// another session (what every SSE stream of the worker waits), and CPU-call throughput.
// Loopback only; about 2 × --seconds plus start-up.
//
//   npm run bench:pool [-- --seconds 6 --concurrency 8 --limit 300000 --threads <cores>]

import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Client } from 'undici';
import { z } from 'zod';
import { createMcpHttpApp, listen } from '../../src/http/app.ts';
import { defaultOriginPolicy } from '../../src/http/guards.ts';
import type { CallToolResult } from '../../src/mcp/types.ts';
import { McpServer } from '../../src/mcp/server.ts';
import { ToolPool } from '../../src/pool/pool.ts';
import { countPrimes, type PrimeCount } from '../../src/pool/tasks/primes.ts';
import { poolTool } from '../../src/pool/tool.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '6' },
    concurrency: { type: 'string', default: '8' },
    limit: { type: 'string', default: '300000' },
    threads: { type: 'string', default: String(availableParallelism()) },
  },
});
const SECONDS = Math.min(Number(values.seconds), 12); // two runs stay well under 30 s
const CONCURRENCY = Number(values.concurrency);
const LIMIT = Number(values.limit);
const THREADS = Number(values.threads);
const PRIMES = new URL('../../src/pool/tasks/primes.ts', import.meta.url);
const PING_EVERY_MS = 20;

interface RunResult {
  mode: 'inline' | 'pool';
  calls: number;
  seconds: number;
  loopP50: number;
  loopP99: number;
  loopMax: number;
  pingP50: number;
  pingP99: number;
  pings: number;
}

const toResult = ({ limit, count }: PrimeCount): CallToolResult => ({
  content: [{ type: 'text', text: `${count} primes below ${limit}` }],
  structuredContent: { limit, count },
});

/** A minimal Streamable HTTP session on one keep-alive connection. */
class Session {
  readonly #client: Client;
  #sessionId = '';
  #nextId = 1;

  constructor(origin: string) {
    this.#client = new Client(origin);
  }

  async open(): Promise<void> {
    await this.#post({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'bench', version: '1' } },
    });
    await this.#post({ jsonrpc: '2.0', method: 'notifications/initialized' });
  }

  async request(method: string, params?: Record<string, unknown>): Promise<Record<string, unknown>> {
    const id = this.#nextId++;
    const reply = await this.#post({ jsonrpc: '2.0', id, method, ...(params ? { params } : {}) });
    const response = reply.find((message) => message.id === id);
    if (!response || !('result' in response)) throw new Error(`${method} failed: ${JSON.stringify(reply)}`);
    return response.result as Record<string, unknown>;
  }

  close(): Promise<void> {
    return this.#client.close();
  }

  async #post(body: unknown): Promise<Array<Record<string, unknown>>> {
    const headers: Record<string, string> = { accept: 'application/json, text/event-stream', 'content-type': 'application/json' };
    if (this.#sessionId) {
      headers['mcp-session-id'] = this.#sessionId;
      headers['mcp-protocol-version'] = '2025-11-25';
    }
    const res = await this.#client.request({ path: '/mcp', method: 'POST', headers, body: JSON.stringify(body) });
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new Error(`HTTP ${res.statusCode}: ${text}`);
    this.#sessionId ||= String(res.headers['mcp-session-id'] ?? '');
    if (!text) return [];
    if (String(res.headers['content-type']).startsWith('text/event-stream')) {
      return [...text.matchAll(/^data: ?(.*)$/gm)].map((match) => JSON.parse(match[1]!) as Record<string, unknown>);
    }
    return [JSON.parse(text) as Record<string, unknown>];
  }
}

async function run(mode: 'inline' | 'pool'): Promise<RunResult> {
  const pool = mode === 'pool' ? new ToolPool({ threads: THREADS, maxQueue: CONCURRENCY }) : undefined;
  const server = new McpServer({ name: 'bench', version: '1.0.0' });
  server.tool(
    'count_primes',
    { inputSchema: z.object({ limit: z.number().int().min(0) }) },
    pool ? poolTool(pool, PRIMES, 'countPrimes', { toResult }) : ({ limit }) => toResult(countPrimes({ limit })),
  );
  const app = createMcpHttpApp(server, { originPolicy: defaultOriginPolicy('127.0.0.1') });
  const http = await listen(app, { host: '127.0.0.1', port: 0 });
  const origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

  const workers = await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    const session = new Session(origin);
    await session.open();
    return session;
  }));
  const prober = new Session(origin);
  await prober.open();
  // Warm-up outside the measurement: starts the threads and compiles the task on each.
  await Promise.all(workers.map((session) => session.request('tools/call', { name: 'count_primes', arguments: { limit: 1000 } })));

  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  let calls = 0;
  const users = workers.map(async (session) => {
    while (performance.now() < deadline) {
      const result = await session.request('tools/call', { name: 'count_primes', arguments: { limit: LIMIT } });
      if (result.isError) throw new Error(`count_primes failed: ${JSON.stringify(result.content)}`);
      calls++;
    }
  });
  const pings: number[] = [];
  const probing = (async () => {
    while (performance.now() < deadline) {
      const sent = performance.now();
      await prober.request('ping');
      pings.push(performance.now() - sent);
      const wait = PING_EVERY_MS - (performance.now() - sent);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  })();
  await Promise.all([...users, probing]);
  const seconds = (performance.now() - started) / 1000;
  loop.disable();

  await Promise.all([...workers, prober].map((session) => session.close()));
  app.drain(0);
  http.closeAllConnections();
  await new Promise<void>((resolve) => http.close(() => resolve()));
  await server.close();
  await pool?.close();

  pings.sort((a, b) => a - b);
  const quantile = (q: number) => pings[Math.min(pings.length - 1, Math.floor(q * pings.length))] ?? Number.NaN;
  return {
    mode,
    calls,
    seconds,
    loopP50: loop.percentile(50) / 1e6,
    loopP99: loop.percentile(99) / 1e6,
    loopMax: loop.max / 1e6,
    pingP50: quantile(0.5),
    pingP99: quantile(0.99),
    pings: pings.length,
  };
}

const single = performance.now();
const sample = countPrimes({ limit: LIMIT });
const singleMs = performance.now() - single;
process.stdout.write(
  `count_primes(limit ${LIMIT}) = ${sample.count}, ${singleMs.toFixed(1)} ms on one core; ` +
    `${CONCURRENCY} concurrent callers for ${SECONDS} s per mode, pool of ${THREADS} threads, ` +
    `${availableParallelism()} cores, Node ${process.version}\n\n`,
);
const rows: RunResult[] = [];
for (const mode of ['inline', 'pool'] as const) rows.push(await run(mode));

const ms = (value: number) => value.toFixed(1).padStart(9);
process.stdout.write('mode     loop p50  loop p99  loop max  ping p50  ping p99  pings  CPU calls/s\n');
for (const row of rows) {
  process.stdout.write(
    `${row.mode.padEnd(6)} ${ms(row.loopP50)} ${ms(row.loopP99)} ${ms(row.loopMax)} ${ms(row.pingP50)} ${ms(row.pingP99)} ` +
      `${String(row.pings).padStart(6)} ${(row.calls / row.seconds).toFixed(1).padStart(12)}\n`,
  );
}
process.stdout.write('(ms; loop = event-loop delay of the HTTP worker, ping = round trip of another session meanwhile)\n');
