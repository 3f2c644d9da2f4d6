// Resume on any worker (--replay): a client that keeps reconnecting to other workers while
// notifications flow misses nothing and receives nothing twice; a POST stream lost mid-call is
// resumed on another worker with the progress and the result produced after the disconnect.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from 'undici';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { RunningCli } from '../helpers/cli.ts';
import { startClusterUnderTest, type ClusterUnderTest } from '../helpers/cluster-under-test.ts';
import { messageData, RawSession, type RawStream } from '../helpers/raw-session.ts';
import { createNotifier } from '../../src/notifier.ts';
import { eventually } from '../helpers/in-process.ts';

const TICKS = 6000;
const PER_SECOND = 2000;
const RECONNECTS = 20;

function resumeSuite(mode: 'redis' | 'cluster') {
  describe(`resume on any worker, ${mode} mode`, () => {
    let under: ClusterUnderTest;
    let cli: RunningCli;

    before(async () => {
      under = await startClusterUnderTest(mode, 2, ['--replay', '--replay-max-length', '5000']);
      ({ cli } = under);
    });
    after(() => under.stop());

    test(`${PER_SECOND} notifications/s while the client reconnects to another worker ${RECONNECTS} times: exactly 1..N, in order`, async () => {
      const receiver = new RawSession(cli.url);
      await receiver.open();
      let stream = await receiver.openStream();
      const ticks: number[] = [];
      const workersSeen = [stream.workerId];
      let lastId = (await stream.waitFor((e) => e.id !== undefined)).id!;
      let consumed = 0; // events of the current stream already taken into `ticks`

      const take = (s: RawStream) => {
        for (const event of s.events.slice(consumed)) {
          if (event.id !== undefined) lastId = event.id;
          if (event.data) ticks.push((messageData(event).params as { data: { tick: number } }).data.tick);
        }
        consumed = s.events.length;
      };

      const sender = new RawSession(cli.url);
      await sender.open();
      const ticker = sender.callTool('ticker', { sessionId: receiver.sessionId, count: TICKS, perSecond: PER_SECOND });

      for (let reconnect = 1; reconnect <= RECONNECTS; reconnect++) {
        const target = Math.floor((reconnect * TICKS) / (RECONNECTS + 2));
        await stream.waitFor(() => ticks.length + stream.events.slice(consumed).filter((e) => e.data).length >= target, 20_000);
        await stream.close();
        take(stream);
        const previous = stream.workerId;
        stream = await receiver.openStreamOn((worker) => worker !== previous, { 'last-event-id': lastId });
        consumed = 0;
        if (process.env.DEBUG_RESUME) {
          await stream.waitFor(() => stream.events.length > 0);
          console.log('resume', lastId, 'ticks', ticks.length, 'last tick', ticks.at(-1), 'first', stream.events[0]!.id, stream.events[0]!.data.slice(0, 120));
        }
        workersSeen.push(stream.workerId);
      }
      const done = await ticker;
      assert.equal((done.result.structuredContent as { sent: number }).sent, TICKS);
      await stream.waitFor(() => ticks.length + stream.events.slice(consumed).filter((e) => e.data).length >= TICKS, 20_000);
      take(stream);
      await stream.close();

      assert.equal(workersSeen.length, RECONNECTS + 1);
      for (let i = 1; i < workersSeen.length; i++) assert.notEqual(workersSeen[i], workersSeen[i - 1]);
      const seen = new Set<number>();
      const duplicates = ticks.filter((tick) => (seen.has(tick) ? true : (seen.add(tick), false)));
      assert.deepEqual(duplicates, [], 'no event received twice');
      assert.equal(ticks.length, TICKS, 'no event lost or duplicated');
      assert.ok(ticks.every((value, index) => value === index + 1), 'ticks arrive exactly as 1..N');
    });

    if (mode === 'redis') {
      test('createNotifier with replay: what a job sends while the stream is away is replayed; its broadcast reaches live streams', async () => {
        const clients = under.clients!;
        {
          const notifier = createNotifier({ redis: await clients.create('resume-job'), channelPrefix: under.prefix, replay: true });
          const session = new RawSession(cli.url);
          await session.open();
          const first = await session.openStream();
          assert.equal(await notifier.notify(session.sessionId, { method: 'notifications/message', params: { level: 'info', data: 'live' } }), true);
          const live = await first.waitFor((e) => e.data.includes('"live"'));
          await first.close();
          await eventually(async () => !(await notifier.notify(session.sessionId, { method: 'notifications/message', params: { level: 'info', data: 'probe' } })), 5_000, 'stream detached');
          assert.equal(await notifier.notify(session.sessionId, { method: 'notifications/message', params: { level: 'info', data: 'while away' } }), false);
          const resumed = await session.openStream({ 'last-event-id': live.id! });
          await resumed.waitFor((e) => e.data.includes('while away'));
          await notifier.broadcast({ method: 'notifications/message', params: { level: 'info', data: 'to everyone' } });
          await resumed.waitFor((e) => e.data.includes('to everyone'));
          await resumed.close();
        }
      });
    }

    test('a POST stream lost mid-call resumes on another worker with the rest of the progress and the result', async () => {
      const session = new RawSession(cli.url);
      await session.open();
      const origin = new URL(cli.url);
      const client = new Client(origin.origin);
      const res = await client.request({
        path: origin.pathname,
        method: 'POST',
        headers: session.headers(),
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 42,
          method: 'tools/call',
          params: { name: 'countdown', arguments: { steps: 8, intervalMs: 100 }, _meta: { progressToken: 'pt' } },
        }),
      });
      const postWorker = String(res.headers['mcp-worker-id']);
      const seen: EventSourceMessage[] = [];
      const parser = createParser({ onEvent: (event) => seen.push(event) });
      // Read until the first progress notification, then drop the connection mid-call.
      for await (const chunk of res.body) {
        parser.feed((chunk as Buffer).toString('utf8'));
        if (seen.some((e) => e.data.includes('notifications/progress'))) break;
      }
      res.body.destroy();
      await client.destroy();
      const lastId = seen.filter((e) => e.id).at(-1)!.id!;
      assert.match(lastId, /^p[\w-]+\/\d+$/);
      const beforeDrop = seen.filter((e) => e.data).map((e) => messageData(e));

      const resumed = await session.openStreamOn((worker) => worker !== postWorker, { 'last-event-id': lastId });
      await resumed.ended; // the stream ends after the result
      const afterDrop = resumed.events.filter((e) => e.data).map((e) => messageData(e));
      const progress = [...beforeDrop, ...afterDrop]
        .filter((m) => m.method === 'notifications/progress')
        .map((m) => (m.params as { progress: number }).progress);
      assert.deepEqual(progress, [1, 2, 3, 4, 5, 6, 7, 8]);
      const result = afterDrop.at(-1)!;
      assert.equal(result.id, 42);
      assert.deepEqual(result.result, { content: [{ type: 'text', text: 'counted 8 steps' }] });
    });
  });
}

resumeSuite('redis');
resumeSuite('cluster');
