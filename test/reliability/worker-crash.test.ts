// A worker SIGKILLed while it holds 25 of 50 streams (2 workers, Redis broker, --replay): the
// primary starts a new one, the 25 clients reconnect with Last-Event-ID to whichever worker
// answers, and, the replay buffer being in Redis, every stream receives every notification
// published before, during and after the crash: exactly once, in order.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { startCli, type RunningCli } from '../helpers/cli.ts';
import { FollowedStream, until } from '../helpers/follow.ts';
import { seqsOf, startPublisher, type TestPublisher } from '../helpers/publisher.ts';
import { RawSession } from '../helpers/raw-session.ts';
import { startRedis, type RedisHandle } from '../helpers/redis.ts';

const PER_WORKER = 25;
const ROUND_MS = 100; // 50 streams × 10/s = 500 notifications/s
const ROUNDS = 50;

/** The pid the primary last reported for worker `id` ("worker listening" lines). */
function workerPid(cli: RunningCli, id: string): number | undefined {
  const listening = cli.lines
    .map((line) => {
      try {
        return JSON.parse(line) as { msg?: string; worker?: string; workerPid?: number };
      } catch {
        return {};
      }
    })
    .filter((entry) => entry.msg === 'worker listening' && entry.worker === id);
  return listening.at(-1)?.workerPid;
}

describe('worker crash (2 workers, --redis-url, --replay)', () => {
  let redis: RedisHandle;
  let cli: RunningCli;
  let publisher: TestPublisher;
  const prefix = `crash${randomUUID().slice(0, 8)}`;

  before(async () => {
    redis = await startRedis();
    cli = await startCli(['--workers', '2', '--redis-url', redis.url, '--replay', '--channel-prefix', prefix, '--shutdown-timeout', '3000']);
    publisher = await startPublisher(redis.url, prefix);
  });
  after(async () => {
    await publisher?.close();
    await cli?.stop();
    await redis?.stop();
  });

  test(`SIGKILL of the worker holding ${PER_WORKER} streams: restarted, its clients resume elsewhere and miss nothing`, async (t) => {
    const streams: FollowedStream[] = [];
    for (const target of ['w1', 'w2']) {
      const opened = await Promise.all(Array.from({ length: PER_WORKER }, async () => {
        const session = new RawSession(cli.url);
        await session.open();
        return new FollowedStream(session).start((worker) => worker === target);
      }));
      streams.push(...opened);
    }
    const victims = streams.filter((s) => s.current.workerId === 'w1');
    assert.equal(victims.length, PER_WORKER);
    const pid = workerPid(cli, 'w1')!;
    assert.ok(pid, 'the primary reported w1\'s pid');

    const outcomes = streams.map(() => new Map<number, boolean>());
    let round = 0;
    const publishing = (async () => {
      const started = Date.now();
      const inflight: Array<Promise<void>> = [];
      for (round = 1; round <= ROUNDS; round++) {
        const due = started + round * ROUND_MS;
        if (due > Date.now()) await delay(due - Date.now());
        const seq = round;
        streams.forEach((s, i) => inflight.push(publisher.notify(s.session.sessionId, 'crash', seq).then((ok) => void outcomes[i]!.set(seq, ok))));
      }
      await Promise.all(inflight);
    })();

    await until(() => streams.every((s) => seqsOf(s.messages(), 'crash').length >= 5), 10_000, 'every stream receiving');
    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');

    // The primary forks a replacement for the slot.
    await until(() => (workerPid(cli, 'w1') ?? pid) !== pid, 10_000, 'a new w1');
    const restartedMs = Date.now() - killedAt;
    // Every client of the dead worker is streaming again (on w2 or on the new w1).
    await until(() => victims.every((s) => s.reconnects > 0 && s.current.status === 200), 10_000, 'the victims to reconnect').catch((err) => {
      throw new Error(`${(err as Error).message}: ${JSON.stringify(victims.map((s) => [s.reconnects, s.refusals, s.timeouts, String(s.lastError)]))}`);
    });
    const reconnectedMs = Math.max(...victims.map((s) => s.connectedAt[1]! - killedAt));

    await publishing;
    await until(() => streams.every((s) => seqsOf(s.messages(), 'crash').length >= ROUNDS), 10_000, 'every notification to arrive').catch(() => undefined);

    let lost = 0;
    let duplicates = 0;
    let outOfOrder = 0;
    for (const s of streams) {
      const seqs = seqsOf(s.messages(), 'crash');
      const unique = new Set(seqs);
      duplicates += seqs.length - unique.size;
      for (let seq = 1; seq <= ROUNDS; seq++) if (!unique.has(seq)) lost++;
      if (seqs.some((value, i) => i > 0 && value <= seqs[i - 1]!)) outOfOrder++;
    }
    const refused = outcomes.reduce((n, o) => n + [...o.values()].filter((ok) => !ok).length, 0);
    const landed = new Map<string, number>();
    for (const s of victims) landed.set(s.current.workerId, (landed.get(s.current.workerId) ?? 0) + 1);
    t.diagnostic(`w1 (pid ${pid}) killed: replacement listening after ${restartedMs} ms; all ${PER_WORKER} clients streaming again after ${reconnectedMs} ms (${[...landed].map(([w, n]) => `${n} on ${w}`).join(', ')})`);
    t.diagnostic(`reconnect attempts abandoned for want of an answer: ${victims.reduce((n, s) => n + s.timeouts, 0)}`);
    t.diagnostic(`notifications: ${ROUNDS * streams.length} published, ${refused} while no stream was attached (retained), ${lost} lost, ${duplicates} duplicated`);
    assert.equal(lost, 0, 'no notification lost');
    assert.equal(duplicates, 0, 'none received twice');
    assert.equal(outOfOrder, 0, 'in order');
    assert.ok(streams.filter((s) => !victims.includes(s)).every((s) => s.reconnects === 0), 'streams on the other worker were not disturbed');
    // The replacement serves: a stream can be held by the new w1.
    const probe = new RawSession(cli.url);
    await probe.open();
    const onNew = await probe.openStreamOn((worker) => worker === 'w1');
    assert.equal(onNew.status, 200);
    await onNew.close();
    await Promise.all(streams.map((s) => s.stop()));
  });
});
