// A client that stops reading its GET stream while notifications keep coming: the worker's queue
// for it is bounded (--max-stream-buffer), the stream is cut once it is exceeded, the worker's
// memory stays flat, the client resumes from the replay buffer with Last-Event-ID and misses
// nothing, and a healthy session on the same worker is not disturbed.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { Client } from 'undici';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { startCli, type RunningCli } from '../helpers/cli.ts';
import { FollowedStream, until } from '../helpers/follow.ts';
import { seqsOf, startPublisher, type TestPublisher } from '../helpers/publisher.ts';
import { RawSession } from '../helpers/raw-session.ts';
import { startRedis, type RedisHandle } from '../helpers/redis.ts';

const LIMIT = 256 * 1024;
const PAYLOAD = 16 * 1024;
const MAX_PUMPED = 3_000; // 48 MiB at most: far more than the limit plus every kernel buffer

function rssBytes(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

describe('a client that stops reading (1 worker, --redis-url, --replay)', () => {
  let redis: RedisHandle;
  let cli: RunningCli;
  let publisher: TestPublisher;
  const prefix = `slow${randomUUID().slice(0, 8)}`;

  before(async () => {
    redis = await startRedis();
    const retention = ['--replay-max-length', String(MAX_PUMPED + 100)];
    cli = await startCli(['--workers', '1', '--redis-url', redis.url, '--replay', ...retention, '--channel-prefix', prefix, '--max-stream-buffer', String(LIMIT)]);
    publisher = await startPublisher(redis.url, prefix, retention);
  });
  after(async () => {
    await publisher?.close();
    await cli?.stop();
    await redis?.stop();
  });

  test('its queue is bounded, it is cut off, it resumes without a loss; memory flat; others unaffected', async (t) => {
    const pid = cli.child.pid!;
    const healthy = new RawSession(cli.url);
    await healthy.open();
    const neighbour = await new FollowedStream(healthy).start();

    // The slow client: response headers read, then the body is left unread (undici stops
    // reading the socket once its own small buffer is full: TCP backpressure reaches the server).
    const slow = new RawSession(cli.url);
    await slow.open();
    const origin = new URL(cli.url);
    const connection = new Client(origin.origin);
    const headers = slow.headers({ accept: 'text/event-stream' });
    delete headers['content-type'];
    const res = await connection.request({ path: origin.pathname, method: 'GET', headers });
    assert.equal(res.statusCode, 200);

    const rssBefore = rssBytes(pid);
    let rssPeak = rssBefore;
    const blob = 'x'.repeat(PAYLOAD);
    let pumped = 0;
    let cutAfter = 0;
    const neighbourOutcomes = new Map<number, boolean>();
    // Pump until the worker gives up on the slow stream (its subscriber is gone: notify false),
    // then as much again, to see that nothing more accumulates in the worker.
    while (pumped < MAX_PUMPED && (cutAfter === 0 || pumped < cutAfter * 2)) {
      const batch = [];
      for (let i = 0; i < 20; i++) batch.push(publisher.notify(slow.sessionId, 'slow', ++pumped, { blob }));
      const delivered = await Promise.all(batch);
      const seq = neighbourOutcomes.size + 1;
      neighbourOutcomes.set(seq, await publisher.notify(healthy.sessionId, 'healthy', seq));
      if (cutAfter === 0 && delivered.includes(false)) cutAfter = pumped;
      rssPeak = Math.max(rssPeak, rssBytes(pid));
    }
    assert.ok(cutAfter > 0, `the slow stream was cut (pumped ${pumped} × ${PAYLOAD} bytes)`);

    // The client reads again: what it gets ends where the worker cut it.
    const events: EventSourceMessage[] = [];
    const parser = createParser({ onEvent: (event) => events.push(event) });
    let bytes = 0;
    try {
      for await (const chunk of res.body) {
        bytes += (chunk as Buffer).length;
        parser.feed((chunk as Buffer).toString('utf8'));
      }
    } catch {
      // the worker destroyed the connection: expected
    }
    await connection.destroy();
    const lastId = events.filter((e) => e.id).at(-1)!.id!;
    const beforeCut = seqsOf(events.filter((e) => e.data).map((e) => JSON.parse(e.data) as Record<string, unknown>), 'slow');

    // It resumes from its last event id: the replay buffer has the rest.
    const resumed = await slow.openStream({ 'last-event-id': lastId });
    // Counted without parsing: this stream carries only the slow session's events, and parsing
    // megabytes on every poll would make the test itself the bottleneck.
    await until(() => {
      // A gap would never fill: fail at once, saying so, rather than wait out the timeout.
      const gap = resumed.events.find((e) => e.event === 'replay-gap');
      if (gap) throw new Error(`resume from ${lastId} reported a gap: ${gap.data}`);
      return resumed.events.filter((e) => e.data).length >= pumped - beforeCut.length;
    }, 40_000, 'the replay');
    const afterResume = seqsOf(resumed.events.filter((e) => e.data && e.event !== 'replay-gap').map((e) => JSON.parse(e.data) as Record<string, unknown>), 'slow');
    await resumed.close();
    const all = [...beforeCut, ...afterResume];

    await until(() => {
      const got = new Set(seqsOf(neighbour.messages(), 'healthy'));
      return [...neighbourOutcomes].every(([seq, ok]) => !ok || got.has(seq));
    }, 10_000, 'the healthy stream to get everything').catch(() => undefined);
    const neighbourGot = new Set(seqsOf(neighbour.messages(), 'healthy'));
    const neighbourLost = [...neighbourOutcomes].filter(([seq, ok]) => ok && !neighbourGot.has(seq)).length;

    const growth = rssPeak - rssBefore;
    // Sent to the stream but never read when it was cut: what the worker and both kernels held,
    // plus what was published while the worker's UNSUBSCRIBE was in flight (a figure, not a bound).
    const unreadAtCut = (cutAfter - beforeCut.length) * PAYLOAD;
    const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
    t.diagnostic(`pumped ${pumped} × 16 KiB = ${mb(pumped * PAYLOAD)} MiB at a client that stopped reading; cut after ${cutAfter} (${mb(cutAfter * PAYLOAD)} MiB, limit ${LIMIT / 1024} KiB + socket buffers)`);
    t.diagnostic(`the client read ${mb(bytes)} MiB before the cut (${beforeCut.length} events), then resumed from ${lastId} and got ${afterResume.length}: ${all.length} of ${pumped}, lost ${pumped - new Set(all).size}`);
    t.diagnostic(`unread when cut: ${(unreadAtCut / 1024).toFixed(0)} KiB (limit ${LIMIT / 1024} KiB in the worker; the rest in socket buffers or in flight)`);
    t.diagnostic(`worker RSS ${mb(rssBefore)} MiB before, peak ${mb(rssPeak)} MiB (+${mb(growth)} MiB) while ${mb(pumped * PAYLOAD)} MiB went by`);
    t.diagnostic(`healthy neighbour: ${neighbourOutcomes.size} notifications, ${neighbourLost} lost, ${neighbour.reconnects} reconnects`);

    assert.deepEqual(all, Array.from({ length: pumped }, (_, i) => i + 1), 'every notification, once, in order');
    // Unbounded, the worker would hold what the socket did not take; bounded, it holds at most the
    // limit for that client (RSS moves with GC by a few MiB either way).
    assert.ok(growth < 32 * 1024 * 1024, 'the worker did not buffer what the client did not read');
    assert.equal(neighbourLost, 0);
    assert.equal(neighbour.reconnects, 0);
    await neighbour.stop();
  });
});
