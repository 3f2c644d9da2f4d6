// SIGTERM under load (2 workers): keep-alive clients keep POSTing tool calls, long calls are in
// flight, GET streams are open. Every POST the server read is answered in full, nothing is a
// 5xx (a request that reaches a draining worker on an open connection is served, with
// `connection: close`), streams end with a retry hint, and the primary exits 0 in time.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from 'undici';
import { createParser } from 'eventsource-parser';
import { startCli, type RunningCli } from '../helpers/cli.ts';
import { until } from '../helpers/follow.ts';
import { RawSession, type RawStream } from '../helpers/raw-session.ts';

const SHUTDOWN_TIMEOUT_MS = 5_000;
const LOOPS = 8;
const LONG_CALLS = 4;
const STREAMS = 10;

interface Outcome {
  /** HTTP status, or undefined when no response came. */
  status?: number;
  /** The JSON-RPC response carried a result. */
  answered: boolean;
  /** Started after SIGTERM was sent. */
  late: boolean;
  /** Error code when no (complete) response came. */
  error?: string;
  /** The response said `connection: close`. */
  closing: boolean;
}

/** One tool call on `client` (a keep-alive connection); never throws. */
async function call(client: Client, session: RawSession, id: number, steps: number, late: boolean): Promise<Outcome> {
  let headersSeen = false;
  try {
    const res = await client.request({
      path: session.url.pathname,
      method: 'POST',
      headers: session.headers(),
      body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'countdown', arguments: { steps, intervalMs: 50 } } }),
    });
    headersSeen = true;
    const text = await res.body.text();
    const messages: Array<Record<string, unknown>> = [];
    if (String(res.headers['content-type']).startsWith('text/event-stream')) {
      createParser({ onEvent: (event) => event.data && messages.push(JSON.parse(event.data)) }).feed(text);
    } else if (text) {
      messages.push(JSON.parse(text) as Record<string, unknown>);
    }
    const reply = messages.find((m) => m.id === id);
    return { status: res.statusCode, answered: reply !== undefined && 'result' in reply, late, closing: res.headers.connection === 'close' };
  } catch (err) {
    const code = (err as { code?: string }).code ?? (err as Error).name;
    // Headers without a complete body would be an accepted request left unanswered.
    return { answered: false, late, closing: false, error: headersSeen ? `TRUNCATED:${code}` : code };
  }
}

describe('graceful shutdown under load (2 workers)', () => {
  let cli: RunningCli;

  before(async () => {
    cli = await startCli(['--workers', '2', '--shutdown-timeout', String(SHUTDOWN_TIMEOUT_MS)]);
  });
  after(async () => {
    await cli?.stop('SIGKILL');
  });

  test('SIGTERM with POSTs and streams in flight: every accepted POST answered, no 5xx, exit 0 in time', async (t) => {
    const session = new RawSession(cli.url);
    await session.open();
    const streams: RawStream[] = [];
    for (let i = 0; i < STREAMS; i++) {
      const s = new RawSession(cli.url);
      await s.open();
      streams.push(await s.openStream());
    }

    const outcomes: Outcome[] = [];
    let sigtermAt = 0;
    let nextId = 1;
    const origin = session.url.origin;
    // Keep-alive clients, one request at a time each, until the server is gone.
    const loops = Array.from({ length: LOOPS }, async () => {
      const client = new Client(origin, { pipelining: 1, keepAliveTimeout: 10_000 });
      try {
        for (let i = 0; i < 500; i++) {
          const outcome = await call(client, session, nextId++, 2, sigtermAt > 0);
          outcomes.push(outcome);
          if (outcome.error === 'ECONNREFUSED') return; // no worker accepts connections any more
          if (outcome.error) await new Promise((resolve) => setTimeout(resolve, 20));
        }
      } finally {
        await client.destroy();
      }
    });

    await until(() => outcomes.filter((o) => o.answered).length >= 40, 20_000, 'the load to run');
    // Long calls (20 × 50 ms) still running when SIGTERM arrives.
    const longClients = Array.from({ length: LONG_CALLS }, () => new Client(origin));
    const longCalls = longClients.map((client) => call(client, session, nextId++, 20, false));
    await new Promise((resolve) => setTimeout(resolve, 100));

    sigtermAt = Date.now();
    const exit = cli.stop('SIGTERM');
    const code = await exit;
    const drainMs = Date.now() - sigtermAt;
    await Promise.all(loops);
    const long = await Promise.all(longCalls);
    await Promise.all(longClients.map((client) => client.destroy()));
    await Promise.all(streams.map((s) => s.ended));

    const served = outcomes.filter((o) => o.status !== undefined);
    const fivexx = served.filter((o) => o.status! >= 500);
    const lateServed = served.filter((o) => o.late);
    const failures = outcomes.filter((o) => o.error);
    const byError = new Map<string, number>();
    for (const o of failures) byError.set(o.error!, (byError.get(o.error!) ?? 0) + 1);
    t.diagnostic(`POSTs: ${served.length} answered (${lateServed.length} sent after SIGTERM, ${lateServed.filter((o) => o.closing).length} of those with connection: close), ${fivexx.length} 5xx`);
    t.diagnostic(`no response: ${failures.length} (${[...byError].map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}); long calls in flight: ${long.filter((o) => o.answered).length}/${LONG_CALLS} answered`);
    t.diagnostic(`primary exit ${code} ${drainMs} ms after SIGTERM (deadline ${SHUTDOWN_TIMEOUT_MS} ms)`);

    assert.equal(code, 0);
    assert.ok(drainMs < SHUTDOWN_TIMEOUT_MS, 'drained before the deadline');
    assert.deepEqual(fivexx, [], 'no 5xx');
    assert.ok(served.every((o) => o.status === 200 && o.answered), 'every response carries the result');
    assert.ok(long.every((o) => o.status === 200 && o.answered), 'calls in flight at SIGTERM finish');
    assert.deepEqual(failures.filter((o) => o.error!.startsWith('TRUNCATED')), [], 'no response cut after its headers');
    // Without a response, the request never reached a worker: the connection was refused or
    // closed idle before the request was read (the client may retry it).
    for (const o of failures) assert.ok(['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET'].includes(o.error!), `unexpected ${o.error}`);
    assert.ok(streams.every((s) => s.retries.length > 0), 'every stream ended with a retry hint');
    const stopped = cli.lines.find((line) => line.includes('all workers stopped'));
    assert.deepEqual(JSON.parse(stopped!).codes, [0, 0]);
  });
});
