// Faults of Redis itself, with 2 workers, the Redis broker and the replay buffer: Redis killed
// for 3 s (and back empty) while 500 notifications/s flow to 50 streams, and Redis cutting off a
// worker's subscriber connection that fell behind (client-output-buffer-limit). What is checked:
// no worker exits, notify answers false (never throws or hangs) while Redis is away, the
// subscriptions come back, and every notification that notify reported delivered arrives, once.
//
// The notifications come from this process, through an McpServer built with the workers' own
// backends (createBackends): the same notify code path, with each message's outcome known.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test, type TestContext } from 'node:test';
import { startCli, type RunningCli } from '../helpers/cli.ts';
import { FollowedStream, until } from '../helpers/follow.ts';
import { seqsOf as seqsIn, startPublisher, type TestPublisher } from '../helpers/publisher.ts';
import { RawSession } from '../helpers/raw-session.ts';
import { RedisClients, startRedis, type RedisHandle } from '../helpers/redis.ts';

const ROUND_MS = 100; // one notification per stream per round: 50 streams × 10/s = 500 notifications/s
const OUTAGE_MS = 3_000;
const RESUBSCRIBE_DEADLINE_MS = 5_000;

/** The `seq` of this test's notifications a stream received, in arrival order. */
const seqsOf = (stream: FollowedStream, logger: string) => seqsIn(stream.messages(), logger);

describe('Redis faults (2 workers, --redis-url, --replay)', () => {
  let redis: RedisHandle;
  let clients: RedisClients;
  let cli: RunningCli;
  let publisher: TestPublisher;
  const prefix = `rel${randomUUID().slice(0, 8)}`;

  before(async () => {
    redis = await startRedis();
    clients = new RedisClients(redis.url);
    cli = await startCli(['--workers', '2', '--redis-url', redis.url, '--replay', '--channel-prefix', prefix, '--shutdown-timeout', '3000']);
    publisher = await startPublisher(redis.url, prefix);
  });
  after(async () => {
    await publisher?.close();
    await cli?.stop();
    await clients?.closeAll();
    await redis?.stop();
  });

  const notifyAt = (sessionId: string, logger: string, seq: number, extra: Record<string, unknown> = {}) =>
    publisher.notify(sessionId, logger, seq, extra);

  /**
   * `kill`: SIGKILL, and Redis comes back empty (no persistence: sessions and retained events are
   * gone, the replay numbering starts again). `shutdown`: SHUTDOWN SAVE, and Redis comes back with
   * its data (what a Redis with RDB or AOF does): sessions survive.
   */
  const outage = async (t: TestContext, fault: 'kill' | 'shutdown', streamCount: number, rounds: number) => {
    const sessions = await Promise.all(Array.from({ length: streamCount }, async () => {
      const session = new RawSession(cli.url);
      await session.open();
      return session;
    }));
    const streams = await Promise.all(sessions.map((session) => new FollowedStream(session).start()));
    const workers = new Set(streams.map((s) => s.current.workerId));
    assert.equal(workers.size, 2, 'the streams are spread over both workers');

    // A worker's own notify during the outage: the ticker tool (to a session nobody holds).
    const sender = new RawSession(cli.url);
    await sender.open();

    const outcomes = sessions.map(() => new Map<number, boolean>());
    const latencies: number[] = [];
    let threw = 0;
    let round = 0;
    const roundStarted: number[] = [];
    const publishing = (async () => {
      const started = Date.now();
      const inflight: Array<Promise<void>> = [];
      for (round = 1; round <= rounds; round++) {
        const due = started + round * ROUND_MS;
        if (due > Date.now()) await delay(due - Date.now());
        roundStarted[round] = Date.now();
        const seq = round;
        sessions.forEach((session, index) => {
          const sent = performance.now();
          inflight.push(
            notifyAt(session.sessionId, 'fault', seq).then(
              (delivered) => {
                outcomes[index]!.set(seq, delivered);
                latencies.push(performance.now() - sent);
              },
              () => void threw++,
            ),
          );
        });
      }
      await Promise.all(inflight);
    })();

    // Traffic flows everywhere before the fault.
    await until(() => streams.every((s) => seqsOf(s, 'fault').length >= 10), 10_000, 'every stream receiving');
    // Its POST stream is open (the session was looked up) before Redis goes away.
    const ticker = await sender.postStream({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'ticker', arguments: { sessionId: randomUUID(), count: 60, perSecond: 10 } } });
    // A call whose progress and result are written while Redis is away (--replay retains every
    // event of a POST stream first): they must still reach the client.
    const countdown = await sender.postStream({ jsonrpc: '2.0', id: 8, method: 'tools/call', params: { name: 'countdown', arguments: { steps: 4, intervalMs: 300 }, _meta: { progressToken: 'outage' } } });

    const down = Date.now();
    const roundAtKill = round;
    if (fault === 'kill') {
      await redis.kill();
    } else {
      // No reconnect for this one: ioredis would resend the unanswered SHUTDOWN to the new server.
      const admin = await clients.create('fault-shutdown', { retryStrategy: () => null });
      await admin.call('SHUTDOWN', 'SAVE').catch(() => undefined); // the connection goes with it
    }
    await delay(OUTAGE_MS); // the fault itself: Redis stays away this long
    await redis.restart();
    const up = Date.now();

    // Subscriptions restored: every stream's channel has a subscriber again (PUBSUB NUMSUB).
    const admin = await clients.create('fault-admin');
    const channels = sessions.map((s) => `${prefix}:sse:${s.sessionId}`);
    await until(async () => {
      const reply = (await admin.pubsub('NUMSUB', ...channels)) as Array<string | number>;
      return channels.every((_, i) => Number(reply[2 * i + 1]) > 0);
    }, RESUBSCRIBE_DEADLINE_MS + 2_000, 'every channel subscribed again').catch(async (err: Error) => {
      const reply = (await admin.pubsub('NUMSUB', ...channels)) as Array<string | number>;
      const missing = channels.filter((_, i) => Number(reply[2 * i + 1]) === 0).length;
      throw new Error(`${err.message}: ${missing} of ${channels.length} channels without a subscriber; clients: ${String(await admin.client('LIST')).split('\n').map((l) => /name=(\S*)/.exec(l)?.[1]).join(' ')}`);
    });
    const resubscribedMs = Date.now() - up;

    // First notification after the restart, on every stream.
    const seen = streams.map((s) => s.events().length);
    const firstAfter = await Promise.all(streams.map(async (s, i) => {
      await until(() => s.events().length > seen[i]!, 10_000, 'a notification after recovery').catch((err: Error) => {
        const recent = [...outcomes[i]!].slice(-5);
        throw new Error(`${err.message}: stream ${i} on ${s.current.workerId}, reconnects ${s.reconnects}, refusals ${s.refusals}, last outcomes ${JSON.stringify(recent)}, last events ${JSON.stringify(s.events().slice(-2))}`);
      });
      return Date.now() - up;
    }));

    await publishing;
    await ticker.ended;
    const tickReply = ticker.events.filter((e) => e.data).map((e) => JSON.parse(e.data) as Record<string, unknown>).find((m) => m.id === 7);
    assert.ok(tickReply && 'result' in tickReply, `the ticker answered: ${JSON.stringify(tickReply)}`);
    const tick = { result: tickReply.result as Record<string, unknown> };
    await countdown.ended;
    const countdownMessages = countdown.events.filter((e) => e.data).map((e) => JSON.parse(e.data) as Record<string, unknown>);
    assert.deepEqual(countdownMessages.find((m) => m.id === 8)?.result, { content: [{ type: 'text', text: 'counted 4 steps' }] }, 'a call answered while Redis was away');
    assert.equal(countdownMessages.filter((m) => m.method === 'notifications/progress').length, 4);

    // Every notification notify reported delivered arrives, exactly once, in order.
    let delivered = 0;
    let refused = 0;
    let lost = 0;
    await until(() => streams.every((s, i) => {
      const got = new Set(seqsOf(s, 'fault'));
      return [...outcomes[i]!].every(([seq, ok]) => !ok || got.has(seq));
    }), 15_000, 'every delivered notification to arrive').catch(() => undefined);
    streams.forEach((s, i) => {
      const got = seqsOf(s, 'fault');
      assert.deepEqual(got, [...new Set(got)].sort((a, b) => a - b), 'no duplicate, in order');
      const received = new Set(got);
      for (const [seq, ok] of outcomes[i]!) {
        if (ok) {
          delivered++;
          if (!received.has(seq)) lost++;
        } else refused++;
      }
    });
    // After recovery everything is delivered: once notify says true again, it stays true.
    // Per stream (each worker's subscriber comes back on its own): once a notification sent after
    // the restart is delivered again, every later one is.
    const falseAfterRecovery = outcomes.reduce((n, o) => {
      const firstTrue = Math.min(...[...o].filter(([seq, ok]) => ok && roundStarted[seq]! > up).map(([seq]) => seq));
      return n + [...o].filter(([seq, ok]) => !ok && seq > firstTrue).length;
    }, 0);

    const exits = cli.lines.filter((line) => line.includes('worker exited unexpectedly'));
    const reconnects = streams.reduce((n, s) => n + s.reconnects, 0);
    t.diagnostic(`notifications: ${delivered + refused} sent, ${delivered} delivered, ${refused} refused (false) while Redis was away, ${lost} lost, ${threw} threw`);
    t.diagnostic(`notify latency while down: max ${Math.max(...latencies).toFixed(0)} ms`);
    t.diagnostic(`Redis back after ${up - down} ms; subscriptions restored ${resubscribedMs} ms after restart; first event on every stream within ${Math.max(...firstAfter)} ms`);
    t.diagnostic(`stream reconnects: ${reconnects}; refused reconnects: ${streams.reduce((n, s) => n + s.refusals.length, 0)}; rounds sent before the fault (${fault}): ${roundAtKill}`);
    t.diagnostic(`worker ticker across the outage: sent ${(tick.result.structuredContent as { sent: number }).sent}, delivered ${(tick.result.structuredContent as { delivered: number }).delivered}`);

    assert.equal(threw, 0, 'notify never throws');
    assert.ok(refused > 0, 'notify answered false while Redis was down');
    assert.equal(lost, 0, 'every notification reported delivered arrived');
    assert.equal(falseAfterRecovery, 0, 'after recovery every notification is delivered');
    assert.ok(resubscribedMs < RESUBSCRIBE_DEADLINE_MS, `subscriptions restored within ${RESUBSCRIBE_DEADLINE_MS} ms`);
    assert.ok(Math.max(...latencies) < 5_000, 'notify never hangs');
    assert.deepEqual(exits, [], 'no worker exited');
    assert.notEqual(tick.result.isError, true, 'the worker ticker kept going');
    assert.equal((tick.result.structuredContent as { sent: number }).sent, 60);
    // Sessions live in Redis: gone with an empty restart (404: the client initializes again, as
    // the spec asks), kept by one that persisted.
    const old = await sessions[0]!.post({ jsonrpc: '2.0', id: 9, method: 'ping' });
    assert.equal(old.status, fault === 'kill' ? 404 : 200);
    // The service is whole again: a new client opens a session and a stream.
    const fresh = new RawSession(cli.url);
    await fresh.open();
    const freshStream = await fresh.openStream();
    assert.equal(freshStream.status, 200);
    await freshStream.close();
    await Promise.all(streams.map((s) => s.stop()));
  };

  test(`Redis killed for ${OUTAGE_MS / 1000} s, back empty, under 500 notifications/s to 50 streams: no worker exits, nothing delivered is lost`, (t) => outage(t, 'kill', 50, 100));
  test(`Redis shut down (SAVE) for ${OUTAGE_MS / 1000} s, back with its data, under 200 notifications/s to 20 streams: sessions survive, nothing delivered is lost`, (t) => outage(t, 'shutdown', 20, 80));

  test('Redis cuts a worker\'s subscriber that fell behind (client-output-buffer-limit): the worker resubscribes, the missed events are filled from the replay buffer, nothing is lost', async (t) => {
    const admin = await clients.create('fault-admin-2');
    const session = new RawSession(cli.url);
    await session.open();
    const stream = await new FollowedStream(session).start();
    const worker = stream.current.workerId;
    // A neighbour on the same worker (same subscriber connection) and one on the other worker.
    const neighbour = new RawSession(cli.url);
    await neighbour.open();
    const near = await new FollowedStream(neighbour).start((w) => w === worker);
    const other = new RawSession(cli.url);
    await other.open();
    const far = await new FollowedStream(other).start((w) => w !== worker);

    const subscriberId = async () => {
      const list = String(await admin.client('LIST'));
      return /id=(\d+) [^\n]*name=mcp-cluster:(\S+):sub/.exec(list.split('\n').filter((l) => l.includes(`name=mcp-cluster:${worker}:sub`)).join('\n'))?.[1];
    };
    const before = await subscriberId();
    assert.ok(before, 'the worker\'s subscriber connection is listed');
    // Redis 7.2+ counts these disconnections; older servers only show the new connection id.
    const disconnections = async () => {
      const match = /client_output_buffer_limit_disconnections:(\d+)/.exec(String(await admin.info('stats')));
      return match ? Number(match[1]) : undefined;
    };
    const statsBefore = await disconnections();

    const outcomes = [new Map<number, boolean>(), new Map<number, boolean>(), new Map<number, boolean>()];
    const targets = [session, neighbour, other];
    await admin.config('SET', 'client-output-buffer-limit', 'pubsub 64kb 32kb 1');
    try {
      // 256 KiB in one message: more than the hard limit in the subscriber's output buffer.
      outcomes[0]!.set(1, await notifyAt(session.sessionId, 'cut', 1, { blob: 'x'.repeat(256 * 1024) }));
      const cutAt = Date.now();
      let seq = 1;
      // Keep publishing small notifications until every delivered one arrived (bounded).
      await until(async () => {
        const done = [stream, near, far].every((s, i) => {
          const got = new Set(seqsOf(s, 'cut'));
          return [...outcomes[i]!].every(([n, ok]) => !ok || got.has(n));
        });
        if (done && (await subscriberId()) !== before) return true;
        seq++;
        await Promise.all(targets.map(async (target, i) => outcomes[i]!.set(seq, await notifyAt(target.sessionId, 'cut', seq))));
        return false;
      }, 15_000, 'every delivered notification after the cut');
      const recoveredMs = Date.now() - cutAt;
      const after = await subscriberId();
      const statsAfter = await disconnections();
      const lost = [stream, near, far].reduce((n, s, i) => {
        const got = new Set(seqsOf(s, 'cut'));
        return n + [...outcomes[i]!].filter(([k, ok]) => ok && !got.has(k)).length;
      }, 0);
      t.diagnostic(`subscriber connection ${before} cut by Redis (output-buffer disconnections: ${statsBefore === undefined ? 'not counted by this Redis' : `+${statsAfter! - statsBefore}`}), replaced by ${after}; all delivered notifications arrived ${recoveredMs} ms after the cut`);
      t.diagnostic(`reconnects: cut stream ${stream.reconnects}, same-worker neighbour ${near.reconnects}, other worker ${far.reconnects} (gaps are filled in place from the replay buffer); lost ${lost}`);
      assert.notEqual(after, before, 'the worker reconnected its subscriber');
      if (statsBefore !== undefined) assert.ok(statsAfter! > statsBefore, 'Redis did cut the connection for its output buffer');
      assert.equal(lost, 0);
      assert.ok(seqsOf(stream, 'cut').includes(1), 'the message that overflowed the buffer arrived (filled from the replay buffer)');
      assert.equal(far.reconnects, 0, 'a stream on the other worker was not disturbed');
      for (const s of [stream, near, far]) {
        const got = seqsOf(s, 'cut');
        assert.deepEqual(got, [...new Set(got)].sort((a, b) => a - b), 'no duplicate, in order');
      }
    } finally {
      await admin.config('SET', 'client-output-buffer-limit', 'pubsub 32mb 8mb 60');
      await Promise.all([stream, near, far].map((s) => s.stop()));
    }
  });
});
