// The mission's proof: with several worker processes, any worker notifies a client whose stream
// another worker holds; a reconnect on another worker takes the stream over; it all shuts down
// cleanly. Run in Redis mode (a redis-server this test starts) and in cluster-IPC mode.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createNotifier } from '../../src/notifier.ts';
import { startCli, type RunningCli } from '../helpers/cli.ts';
import { startClusterUnderTest, type ClusterUnderTest } from '../helpers/cluster-under-test.ts';
import { messageData, RawSession } from '../helpers/raw-session.ts';
import { RedisClients, type RedisHandle } from '../helpers/redis.ts';

const isMessage = (text: string) => (event: { data: string }) => event.data.includes(text);

function crossWorkerSuite(mode: 'redis' | 'cluster', workers: number) {
  describe(`${mode} mode, ${workers} workers`, () => {
    let under: ClusterUnderTest;
    let redis: RedisHandle | undefined;
    let clients: RedisClients | undefined;
    let cli: RunningCli;
    let prefix: string;

    before(async () => {
      under = await startClusterUnderTest(mode, workers, ['--shutdown-timeout', '3000']);
      ({ cli, redis, clients, prefix } = under);
    });
    after(() => under.stop());

    test('the start-up line names the URL, the workers and the broker', () => {
      assert.match(cli.lines.find((line) => line.includes('listening on'))!, new RegExp(`workers: ${workers}, broker: ${mode}`));
    });

    test('a notify on one worker reaches the stream another worker holds; true, or false without a stream', async () => {
      const session = new RawSession(cli.url);
      await session.open();
      const stream = await session.openStream();
      assert.equal(stream.status, 200);
      try {
        const sender = new RawSession(cli.url);
        await sender.open();
        let call: { workerId: string; result: Record<string, unknown> } | undefined;
        for (let i = 0; i < 32 && !call; i++) {
          const attempt = await sender.callTool('notify', { sessionId: session.sessionId, text: `hello ${i}` }, i + 1);
          if (attempt.workerId !== stream.workerId) call = attempt;
        }
        assert.ok(call, 'a call landed on another worker');
        const structured = call.result.structuredContent as { delivered: boolean; worker: string };
        assert.equal(structured.delivered, true);
        assert.notEqual(structured.worker, stream.workerId);
        const event = await stream.waitFor((e) => messageData(e).method === 'notifications/message' && e.data.includes(structured.worker));
        assert.equal((messageData(event).params as { data: { from: string } }).data.from, structured.worker);

        const none = await sender.callTool('notify', { sessionId: randomUUID(), text: 'nobody' }, 99);
        assert.equal((none.result.structuredContent as { delivered: boolean }).delivered, false);
      } finally {
        await stream.close();
      }
    });

    test('any worker serves any session: initialize on A, tools on B, GET on C, DELETE on D ends the stream on C', async () => {
      // Where a fresh connection lands is the cluster's choice: repeat with new sessions until the
      // DELETE ran on another worker than the stream's (every round must pass all the same).
      let deletedElsewhere = false;
      for (let round = 0; round < 10 && !deletedElsewhere; round++) {
        const session = new RawSession(cli.url);
        const a = await session.open();
        const b = await session.postOn(
          () => ({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: {} } }),
          (worker) => worker !== a,
        );
        const whoami = b.messages.find((m) => m.id === 1)!.result as { structuredContent: { sessionId: string; worker: string } };
        assert.deepEqual(whoami.structuredContent, { worker: b.workerId, sessionId: session.sessionId });
        const c = await session.openStreamOn((worker) => workers === 2 || worker !== b.workerId);
        const d = await session.delete();
        assert.equal(d.status, 200);
        await c.ended;
        const gone = await session.post({ jsonrpc: '2.0', id: 2, method: 'ping' });
        assert.equal(gone.status, 404);
        deletedElsewhere = d.workerId !== c.workerId;
      }
      assert.ok(deletedElsewhere, 'a DELETE ran on another worker than the stream');
    });

    test('a reconnect on another worker takes the stream over; the old one ends; messages go only to the new one', async () => {
      const session = new RawSession(cli.url);
      await session.open();
      const first = await session.openStream();
      const second = await session.openStreamOn((worker) => worker !== first.workerId);
      try {
        await first.ended;
        const sender = new RawSession(cli.url);
        await sender.open();
        const { result } = await sender.callTool('notify', { sessionId: session.sessionId, text: 'after takeover' });
        assert.equal((result.structuredContent as { delivered: boolean }).delivered, true);
        await second.waitFor(isMessage('after takeover'));
        assert.equal(first.events.filter(isMessage('after takeover')).length, 0);
      } finally {
        await first.close();
        await second.close();
      }
    });

    if (mode === 'redis') {
      test('createNotifier notifies a session from a process that is not a worker', async () => {
        const session = new RawSession(cli.url);
        await session.open();
        const stream = await session.openStream();
        try {
          const redisClient = await clients!.create('test-notifier');
          const notifier = createNotifier({ redis: redisClient, channelPrefix: prefix });
          const delivered = await notifier.notify(session.sessionId, {
            method: 'notifications/message',
            params: { level: 'info', data: 'from a job' },
          });
          assert.equal(delivered, true);
          await stream.waitFor(isMessage('from a job'));
          assert.equal(await notifier.notify(randomUUID(), { method: 'notifications/message', params: { level: 'info', data: 'x' } }), false);
          // Another prefix is another deployment: it cannot reach this one's sessions.
          const other = createNotifier({ redis: redisClient, channelPrefix: `${prefix}-other` });
          assert.equal(await other.notify(session.sessionId, { method: 'notifications/message', params: { level: 'info', data: 'leak' } }), false);
        } finally {
          await stream.close();
        }
        assert.equal(stream.events.filter(isMessage('leak')).length, 0);
      });

      test('two deployments with different channel prefixes on one Redis never cross-talk', async () => {
        const otherPrefix = `${prefix}x`;
        const other = await startCli(['--workers', '1', '--redis-url', redis!.url, '--channel-prefix', otherPrefix]);
        try {
          const session = new RawSession(cli.url);
          await session.open();
          const stream = await session.openStream();
          // The other deployment does not know this session at all...
          const foreign = new RawSession(other.url);
          foreign.sessionId = session.sessionId;
          const reply = await foreign.post({ jsonrpc: '2.0', id: 1, method: 'ping' });
          assert.equal(reply.status, 404);
          // ...and its notify tool cannot reach this session's stream.
          const sender = new RawSession(other.url);
          await sender.open();
          const { result } = await sender.callTool('notify', { sessionId: session.sessionId, text: 'cross-talk' });
          assert.equal((result.structuredContent as { delivered: boolean }).delivered, false);
          await stream.close();
          assert.equal(stream.events.filter(isMessage('cross-talk')).length, 0);
        } finally {
          await other.stop();
        }
      });

    }

    test('SIGTERM (last): streams get a retry hint, every worker exits 0, no named Redis connection is left', async () => {
      const session = new RawSession(cli.url);
      await session.open();
      const stream = await session.openStream();
      const admin = mode === 'redis' ? await clients!.create('test-admin') : undefined;
      const named = async () =>
        String(await admin!.client('LIST'))
          .split('\n')
          .map((line) => /name=(\S*)/.exec(line)?.[1] ?? '')
          .filter((name) => name.startsWith('mcp-cluster:'));
      if (admin) assert.equal((await named()).length, workers * 2);
      const started = Date.now();
      const code = await cli.stop('SIGTERM');
      assert.equal(code, 0);
      assert.ok(Date.now() - started < 3000 + 2000, 'within the shutdown deadline');
      await stream.ended;
      assert.ok(stream.retries.length > 0, 'the stream carried a retry: hint');
      const exits = cli.lines.filter((line) => line.includes('all workers stopped'));
      assert.equal(exits.length, 1);
      assert.deepEqual(JSON.parse(exits[0]!).codes, Array(workers).fill(0));
      if (admin) assert.deepEqual(await named(), []);
    });
  });
}

crossWorkerSuite('redis', 4);
crossWorkerSuite('cluster', 2);
