// CPU-heavy tools on worker threads: the HTTP worker's event loop keeps answering while every
// thread is busy, cancellation frees the thread, a full queue answers at once, and a closed pool
// stays closed. Real threads, real HTTP, the official SDK client.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { BroadcastChannel } from 'node:worker_threads';
import { z } from 'zod';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { registerDemoApp } from '../../src/apps/demo.ts';
import { startWorker } from '../../src/cluster/worker.ts';
import { ConfigError, loadConfig } from '../../src/config/config.ts';
import { PoolClosedError, PoolQueueFullError } from '../../src/pool/errors.ts';
import { ToolPool } from '../../src/pool/pool.ts';
import { poolTool } from '../../src/pool/tool.ts';
import { eventually, startTestServer, type TestServer } from '../helpers/in-process.ts';
import { connectClient, type ConnectedClient } from '../helpers/mcp-client.ts';
import type { GateMessage } from './tasks.ts';

const TASKS = new URL('./tasks.ts', import.meta.url);
const PRIMES = new URL('../../src/pool/tasks/primes.ts', import.meta.url);
const WAIT_MS = 10_000;

/**
 * Holds `spin` tasks on their threads until released. Every task announces its start (and its
 * thread) on the channel; one released late, because it was still queued, is released on start.
 */
class Gate {
  readonly name = `gate-${randomUUID()}`;
  /** The thread of every task that started, in order. */
  readonly threads: number[] = [];
  readonly #channel = new BroadcastChannel(this.name);
  readonly #waiters = new Set<() => void>();
  #released = false;

  constructor() {
    this.#channel.onmessage = (event) => {
      const message = (event as { data: GateMessage }).data;
      this.threads.push(message.threadId);
      if (this.#released) this.#channel.postMessage('release');
      for (const wake of this.#waiters) wake();
    };
  }

  /** Resolves once `count` tasks have started. */
  async started(count: number): Promise<void> {
    const deadline = Date.now() + WAIT_MS;
    while (this.threads.length < count) {
      if (Date.now() > deadline) throw new Error(`only ${this.threads.length} of ${count} tasks started`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.#waiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, WAIT_MS);
        this.#waiters.add(wake);
      });
    }
  }

  release(): void {
    this.#released = true;
    this.#channel.postMessage('release');
  }

  close(): void {
    this.#channel.close();
  }
}

describe('ToolPool', () => {
  const pools: ToolPool[] = [];
  const gates: Gate[] = [];
  const pool = (threads: number, maxQueue?: number) => {
    const created = new ToolPool(maxQueue === undefined ? { threads } : { threads, maxQueue });
    pools.push(created);
    return created;
  };
  const gate = () => {
    const created = new Gate();
    gates.push(created);
    return created;
  };
  after(async () => {
    for (const created of gates) created.close();
    await Promise.all(pools.map((created) => created.close()));
  });

  test('runs an export of a .ts task module on a worker thread', async () => {
    const p = pool(1);
    assert.deepEqual(await p.run(PRIMES, 'countPrimes', { limit: 1000 }), { limit: 1000, count: 168 });
    const thread = await p.run<{ isMainThread: boolean; threadId: number }>(TASKS, 'where', {});
    assert.equal(thread.isMainThread, false);
    await assert.rejects(p.run(TASKS, 'fail', { message: 'bad input' }), /bad input/);
    assert.deepEqual(p.stats(), { threads: 1, pending: 0, queued: 0, completed: 3 });
  });

  test('aborting a running task terminates its thread, and a new thread takes the next task', async () => {
    const p = pool(1);
    const g = gate();
    const controller = new AbortController();
    const running = p.run(TASKS, 'spin', { gate: g.name }, { signal: controller.signal });
    await g.started(1);
    controller.abort(new Error('user gave up'));
    await assert.rejects(running, (err: Error) => err.name === 'AbortError' && (err.cause as Error).message === 'user gave up');
    assert.equal(p.stats().pending, 0);
    // The spinning thread never returns on its own: the next task runs only if it was replaced.
    const next = await p.run<{ threadId: number }>(TASKS, 'where', {});
    assert.notEqual(next.threadId, g.threads[0]);
    assert.equal(p.stats().threads, 1);
  });

  test('aborting a queued task removes it from the queue before it starts', async () => {
    const p = pool(1);
    const g = gate();
    const first = p.run<number>(TASKS, 'spin', { gate: g.name });
    await g.started(1);
    const controller = new AbortController();
    const queued = p.run(TASKS, 'spin', { gate: g.name }, { signal: controller.signal });
    assert.equal(p.stats().queued, 1);
    controller.abort();
    await assert.rejects(queued, { name: 'AbortError' });
    assert.deepEqual([p.stats().pending, p.stats().queued], [1, 0]);
    g.release();
    assert.ok((await first) > 0);
    await p.run(TASKS, 'where', {});
    assert.equal(g.threads.length, 1, 'the aborted task never started');
  });

  test('a full queue rejects at once with POOL_QUEUE_FULL, then drains', async () => {
    const p = pool(1, 1);
    const g = gate();
    const running = p.run<number>(TASKS, 'spin', { gate: g.name });
    const queued = p.run<number>(TASKS, 'spin', { gate: g.name });
    await assert.rejects(
      p.run(TASKS, 'where', {}),
      (err: unknown) => err instanceof PoolQueueFullError && err.code === 'POOL_QUEUE_FULL' && err.limit === 2,
    );
    await g.started(1);
    g.release();
    assert.ok((await running) > 0 && (await queued) > 0);
    assert.equal((await p.run<{ isMainThread: boolean }>(TASKS, 'where', {})).isMainThread, false);
  });

  test('close() destroys the threads: running tasks reject, later runs reject with POOL_CLOSED', async () => {
    const p = pool(2);
    const g = gate();
    const running = p.run(TASKS, 'spin', { gate: g.name });
    const outcome = assert.rejects(running, /Terminating worker thread/);
    await g.started(1);
    await p.close();
    await outcome;
    assert.equal(p.closed, true);
    assert.equal(p.stats().threads, 0);
    await assert.rejects(p.run(TASKS, 'where', {}), (err: unknown) => err instanceof PoolClosedError && err.code === 'POOL_CLOSED');
    assert.equal(p.stats().threads, 0, 'a closed pool starts no thread');
  });
});

describe('pool tools over Streamable HTTP (official SDK client)', () => {
  const THREADS = 2;
  let pool: ToolPool;
  let ts: TestServer;
  const gates: Gate[] = [];
  const clients: ConnectedClient[] = [];
  const gate = () => {
    const created = new Gate();
    gates.push(created);
    return created;
  };
  const connected = async () => {
    const client = await connectClient(ts.url);
    clients.push(client);
    return client;
  };
  const spin = (client: ConnectedClient, g: Gate, signal?: AbortSignal) =>
    client.client.callTool({ name: 'spin', arguments: { gate: g.name } }, undefined, signal ? { signal } : {});

  before(async () => {
    pool = new ToolPool({ threads: THREADS, maxQueue: 1 });
    ts = await startTestServer((server) => {
      registerDemoApp(server, { workerId: 'w1', pool });
      server.tool(
        'spin',
        { description: 'Busy until the test releases it', inputSchema: z.object({ gate: z.string() }) },
        poolTool(pool, TASKS, 'spin', { toResult: (rounds: number) => ({ content: [{ type: 'text', text: `spun ${rounds} rounds` }] }) }),
      );
    });
  });
  after(async () => {
    for (const created of gates) created.close();
    await Promise.all(clients.map((client) => client.close()));
    await ts.close();
    await pool.close();
  });

  test('count_primes is a tool like any other: listed, validated, answered with structured content', async () => {
    const c = await connected();
    const tool = (await c.client.listTools()).tools.find((t) => t.name === 'count_primes');
    assert.ok(tool?.outputSchema);
    const result = await c.client.callTool({ name: 'count_primes', arguments: { limit: 100_000 } });
    assert.deepEqual(result.structuredContent, { limit: 100_000, count: 9592 });
    assert.deepEqual(result.content, [{ type: 'text', text: '9592 primes below 100000' }]);
    const invalid = await c.client.callTool({ name: 'count_primes', arguments: { limit: -1 } });
    assert.equal(invalid.isError, true);
    assert.match((invalid.content as Array<{ text: string }>)[0]!.text, /Invalid arguments for tool count_primes/);
  });

  test('while CPU calls hold every thread, a ping and a stream notification are answered before they finish', async () => {
    const a = await connected();
    const b = await connected();
    const g = gate();
    const events: string[] = [];
    const notified = new Promise<void>((resolve) =>
      b.client.setNotificationHandler(LoggingMessageNotificationSchema, () => {
        events.push('notification');
        resolve();
      }),
    );
    await eventually(() => ts.server.broker.hasSubscriber(b.sessionId), 5_000, 'GET stream');

    // One call per thread, and one more waiting in the queue.
    const calls = Array.from({ length: THREADS + 1 }, () =>
      spin(a, g).then((result) => {
        events.push('cpu');
        return result;
      }),
    );
    await g.started(THREADS);
    await eventually(() => pool.stats().pending === THREADS + 1, 5_000, 'every CPU call in the pool');

    await b.client.ping();
    events.push('ping');
    assert.equal(await ts.server.notify(b.sessionId, { method: 'notifications/message', params: { level: 'info', data: 'hi' } }), true);
    await notified;
    assert.equal(pool.stats().pending, THREADS + 1, 'no CPU call finished meanwhile');

    g.release();
    const results = await Promise.all(calls);
    for (const result of results) assert.match((result.content as Array<{ text: string }>)[0]!.text, /^spun [1-9]\d* rounds$/);
    assert.deepEqual(events, ['ping', 'notification', ...Array<string>(THREADS + 1).fill('cpu')]);
  });

  test('a call cancelled by the client (notifications/cancelled) frees its thread', async () => {
    const c = await connected();
    const g = gate();
    const controller = new AbortController();
    const call = spin(c, g, controller.signal);
    await g.started(1);
    controller.abort('user gave up');
    await assert.rejects(call);
    await eventually(() => pool.stats().pending === 0, 5_000, 'the cancelled task to leave the pool');

    // Every thread takes work again; the cancelled one's thread was terminated and replaced.
    const next = gate();
    const calls = Array.from({ length: THREADS }, () => spin(c, next));
    await next.started(THREADS);
    assert.ok(!next.threads.includes(g.threads[0]!), 'the cancelled task no longer holds a thread');
    next.release();
    await Promise.all(calls);
  });

  test('a full queue answers at once with an isError result the model can read', async () => {
    const c = await connected();
    const g = gate();
    const calls = Array.from({ length: THREADS + 1 }, () => spin(c, g));
    await eventually(() => pool.stats().pending === THREADS + 1, 5_000, 'threads and queue full');
    const rejected = await c.client.callTool({ name: 'count_primes', arguments: { limit: 10 } });
    assert.equal(rejected.isError, true);
    assert.match((rejected.content as Array<{ text: string }>)[0]!.text, /CPU pool is busy: 3 tasks are already running or waiting/);
    g.release();
    for (const result of await Promise.all(calls)) assert.notEqual(result.isError, true);
    assert.deepEqual((await c.client.callTool({ name: 'count_primes', arguments: { limit: 10 } })).structuredContent, { limit: 10, count: 4 });
  });
});

describe('the worker lifespan and --threads', () => {
  test('--threads (MCP_THREADS) defaults to cores / workers, at least 1', () => {
    const cores = availableParallelism();
    assert.equal(loadConfig(['--workers', '1'], {}).threads, cores);
    // By default one worker per core, so one thread each.
    assert.equal(loadConfig([], {}).threads, 1);
    assert.equal(loadConfig(['--workers', '4'], {}).threads, Math.max(1, Math.floor(cores / 4)));
    assert.equal(loadConfig(['--workers', '256', '--threads', 'auto'], {}).threads, 1);
    assert.equal(loadConfig(['--threads', '3'], { MCP_THREADS: '2' }).threads, 3);
    assert.equal(loadConfig([], { MCP_THREADS: '2' }).threads, 2);
    assert.throws(() => loadConfig(['--threads', '0'], {}), (err: unknown) => err instanceof ConfigError && /^--threads \(MCP_THREADS\)/.test(err.message));
  });

  test('a worker gives the demo app its pool and closes it on shutdown', async () => {
    const worker = await startWorker(loadConfig(['--port', '0', '--workers', '1', '--threads', '1', '--log-level', 'silent'], {}), 'w1');
    let c: ConnectedClient | undefined;
    try {
      c = await connectClient(worker.url);
      const result = await c.client.callTool({ name: 'count_primes', arguments: { limit: 1000 } });
      assert.deepEqual(result.structuredContent, { limit: 1000, count: 168 });
    } finally {
      await c?.close();
      await worker.close();
    }
  });
});
