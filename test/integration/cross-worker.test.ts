// Every MCP feature across workers: the POST, the GET stream and the client's reply each land
// where the cluster puts them, and everything still works. Redis mode and cluster-IPC mode.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Agent, fetch as undiciFetch } from 'undici';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createNotifier } from '../../src/notifier.ts';
import { startCli, type RunningCli } from '../helpers/cli.ts';
import { startClusterUnderTest, type ClusterUnderTest } from '../helpers/cluster-under-test.ts';
import { messageData, RawSession, type RawStream } from '../helpers/raw-session.ts';
import { RedisClients, startRedis, type RedisHandle } from '../helpers/redis.ts';

const ROUNDS = 12;
const methodIs = (method: string) => (e: { data: string }) => e.data !== '' && messageData(e).method === method;

/** Repeats a scenario until `differs` held in one round (where connections land is the cluster's choice). */
async function untilDifferent(what: string, round: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < ROUNDS; i++) if (await round()) return;
  assert.fail(`${what}: never landed on different workers in ${ROUNDS} rounds`);
}

function crossWorkerFeatures(mode: 'redis' | 'cluster', workers: number) {
  describe(`MCP features across workers, ${mode} mode`, () => {
    let under: ClusterUnderTest;
    let clients: RedisClients | undefined;
    let cli: RunningCli;
    let prefix: string;

    before(async () => {
      under = await startClusterUnderTest(mode, workers, ['--replay']);
      ({ cli, clients, prefix } = under);
    });
    after(() => under.stop());

    test("a client's reply to an elicitation lands on another worker and resumes the waiting handler", async () => {
      await untilDifferent('elicitation reply', async () => {
        const session = new RawSession(cli.url);
        await session.open({ elicitation: {} });
        const call = await session.postStream({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'ask_name', arguments: {} } });
        const ask = messageData(await call.waitFor(methodIs('elicitation/create')));
        assert.match(String(ask.id), /^srv:w\d\./, 'server request ids name the issuing worker');
        const reply = await session.post({ jsonrpc: '2.0', id: ask.id, result: { action: 'accept', content: { name: 'Ada' } } });
        assert.equal(reply.status, 202);
        const result = messageData(await call.waitFor((e) => e.data !== '' && messageData(e).id === 1));
        assert.deepEqual(result.result, { content: [{ type: 'text', text: 'Hello, Ada!' }] });
        await call.close();
        return reply.workerId !== call.workerId;
      });
    });

    test('an unanswered server request times out with a clear error; a reply for a gone worker gets 202', async () => {
      const session = new RawSession(cli.url);
      await session.open({ elicitation: {} });
      const call = await session.post({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'ask_name', arguments: { timeoutMs: 200 } } });
      const response = call.messages.find((m) => m.id === 9)!;
      assert.deepEqual(response.error, { code: -32001, message: 'The client did not answer elicitation/create within 200 ms' });
      const orphan = await session.post({ jsonrpc: '2.0', id: 'srv:w9.999999:1', result: { action: 'accept' } });
      assert.equal(orphan.status, 202);
    });

    test('notifications/cancelled on one worker aborts the handler running on another; no result follows', async () => {
      await untilDifferent('cancellation', async () => {
        const session = new RawSession(cli.url);
        await session.open();
        const call = await session.postStream({
          jsonrpc: '2.0',
          id: 'long',
          method: 'tools/call',
          params: { name: 'countdown', arguments: { steps: 100, intervalMs: 50 }, _meta: { progressToken: 'p' } },
        });
        await call.waitFor(methodIs('notifications/progress'));
        const cancel = await session.post({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'long', reason: 'changed my mind' } });
        assert.equal(cancel.status, 202);
        await call.ended;
        const messages = call.events.filter((e) => e.data).map((e) => messageData(e));
        assert.equal(messages.filter((m) => m.id === 'long').length, 0, 'no response after cancellation');
        assert.ok(messages.filter((m) => m.method === 'notifications/progress').length < 100, 'the handler stopped');
        return cancel.workerId !== call.workerId;
      });
    });

    test('logging/setLevel set through one worker holds on the others', async () => {
      await untilDifferent('setLevel', async () => {
        const session = new RawSession(cli.url);
        await session.open();
        const set = await session.post({ jsonrpc: '2.0', id: 1, method: 'logging/setLevel', params: { level: 'error' } });
        const call = await session.postStream({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'log_levels', arguments: {} } });
        await call.ended;
        const levels = call.events
          .filter(methodIs('notifications/message'))
          .map((e) => (messageData(e).params as { level: string }).level);
        assert.deepEqual(levels, ['error', 'critical']);
        return set.workerId !== call.workerId;
      });
    });

    test('resources/updated reaches a subscribed session wherever its stream is, from any worker; unsubscribe stops it', async () => {
      const watcher = new RawSession(cli.url);
      await watcher.open();
      const subscribed = await watcher.post({ jsonrpc: '2.0', id: 1, method: 'resources/subscribe', params: { uri: 'demo://readme' } });
      assert.equal(subscribed.status, 200);
      const stream = await watcher.openStreamOn((worker) => worker !== subscribed.workerId || workers === 1);
      try {
        const toucher = new RawSession(cli.url);
        await toucher.open();
        const touched = await toucher.postOn(
          () => ({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'touch_resource', arguments: {} } }),
          (worker) => worker !== stream.workerId,
        );
        const delivered = (touched.messages.find((m) => m.id === 5)!.result as { structuredContent: { delivered: number } }).structuredContent.delivered;
        assert.ok(delivered >= 1);
        const update = await stream.waitFor(methodIs('notifications/resources/updated'));
        assert.deepEqual(messageData(update).params, { uri: 'demo://readme' });
        if (mode === 'redis') {
          const redisClient = await clients!.create('xw-notifier');
          const count = await createNotifier({ redis: redisClient, channelPrefix: prefix }).resourceUpdated('demo://readme');
          assert.ok(count >= 1);
          await stream.waitFor(() => stream.events.filter(methodIs('notifications/resources/updated')).length === 2);
        }
        const before = stream.events.filter(methodIs('notifications/resources/updated')).length;
        await watcher.post({ jsonrpc: '2.0', id: 2, method: 'resources/unsubscribe', params: { uri: 'demo://readme' } });
        const after = await toucher.callTool('touch_resource', {});
        assert.deepEqual(after.result.structuredContent, { delivered: 0 });
        assert.equal(stream.events.filter(methodIs('notifications/resources/updated')).length, before);
      } finally {
        await stream.close();
      }
    });

    test('broadcast reaches every live session of the cluster exactly once', async () => {
      const streams: RawStream[] = [];
      try {
        for (let i = 0; i < 4; i++) {
          const session = new RawSession(cli.url);
          await session.open();
          streams.push(await session.openStream());
        }
        assert.ok(new Set(streams.map((s) => s.workerId)).size > 1, 'streams are spread over the workers');
        const sender = new RawSession(cli.url);
        await sender.open();
        const text = `all hands ${randomUUID()}`;
        await sender.callTool('broadcast', { text });
        await sender.callTool('broadcast', { kind: 'tools' });
        for (const stream of streams) {
          await stream.waitFor(methodIs('notifications/tools/list_changed'));
          assert.equal(stream.events.filter((e) => e.data.includes(text)).length, 1);
          assert.equal(stream.events.filter(methodIs('notifications/tools/list_changed')).length, 1);
        }
      } finally {
        await Promise.all(streams.map((s) => s.close()));
      }
    });
  });
}

crossWorkerFeatures('redis', 2);
crossWorkerFeatures('cluster', 2);

describe('the official SDK client against 4 workers', () => {
  let redis: RedisHandle;
  let cli: RunningCli;
  before(async () => {
    redis = await startRedis();
    cli = await startCli(['--workers', '4', '--redis-url', redis.url, '--replay', '--shutdown-timeout', '2000']);
  });
  after(async () => {
    await cli.stop();
    await redis.stop();
  });

  test('an elicitation runs end to end while requests spread over the workers', async () => {
    const workersSeen = new Set<string>();
    // A fresh connection per request, so node:cluster spreads them over the workers.
    const fetchFresh = async (url: string | URL, init?: RequestInit) => {
      const response = await undiciFetch(url, { ...(init as object), dispatcher: new Agent({ keepAliveTimeout: 10 }) } as never);
      const worker = response.headers.get('mcp-worker-id');
      if (worker) workersSeen.add(worker);
      return response as unknown as Response;
    };
    const client = new McpClient({ name: 'sdk-4-workers', version: '1.0.0' }, { capabilities: { elicitation: {} } });
    client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { name: 'Grace' } }));
    const transport = new StreamableHTTPClientTransport(new URL(cli.url), { fetch: fetchFresh });
    await client.connect(transport);
    try {
      for (let i = 0; i < 4; i++) {
        const result = await client.callTool({ name: 'ask_name', arguments: {} });
        assert.deepEqual(result.content, [{ type: 'text', text: 'Hello, Grace!' }]);
      }
      assert.ok(workersSeen.size >= 3, `requests reached ${workersSeen.size} workers`);
    } finally {
      await client.close();
    }
  });
});
