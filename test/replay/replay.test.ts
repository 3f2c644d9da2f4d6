// The replay contract against every implementation, plus the Redis fast path.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { ClusterBroker } from '../../src/broker/cluster.ts';
import { RedisBroker } from '../../src/broker/redis.ts';
import type { SseEvent } from '../../src/broker/broker.ts';
import { attachClusterHub } from '../../src/cluster/hub.ts';
import { ClusterReplayBuffer } from '../../src/replay/cluster.ts';
import { MemoryReplayBuffer } from '../../src/replay/memory.ts';
import { RedisReplayBuffer } from '../../src/replay/redis.ts';
import { publishRetained } from '../../src/replay/replay.ts';
import { loopbackCluster } from '../helpers/loopback-cluster.ts';
import { redisForFile } from '../helpers/redis.ts';
import { replayContract } from './contract.ts';

replayContract('MemoryReplayBuffer', async () => {
  const buffer = new MemoryReplayBuffer({ maxLength: 4 });
  return { buffer, maxLength: 4, cleanup: () => buffer.close() };
});

const redis = redisForFile();

replayContract('RedisReplayBuffer', async () => {
  const client = await redis.clients.create('replay-contract');
  const keyPrefix = `rc${randomUUID().slice(0, 8)}`;
  const buffer = new RedisReplayBuffer({ redis: client, keyPrefix, maxLength: 4 });
  return {
    buffer,
    maxLength: 4,
    storedLength: (sessionId, streamId) => client.xlen(`${keyPrefix}:replay:${sessionId}:${streamId}`),
    cleanup: () => buffer.close(),
  };
});

replayContract('ClusterReplayBuffer (in-process hub)', async () => {
  const loopback = loopbackCluster();
  const hub = attachClusterHub(loopback.cluster, { replay: { maxLength: 4 } });
  const buffer = new ClusterReplayBuffer({ port: loopback.port() });
  return {
    buffer,
    maxLength: 4,
    async cleanup() {
      await buffer.close();
      await hub.detach();
    },
  };
});

describe('retained publish', () => {
  test('Redis: retained and published with its id in one round trip, to the stream that holds it', async () => {
    const publisher = await redis.clients.create('retained-pub');
    const subscriber = await redis.clients.create('retained-sub');
    const prefix = `rp${randomUUID().slice(0, 8)}`;
    const broker = new RedisBroker({ publisher, subscriber, channelPrefix: prefix });
    const buffer = new RedisReplayBuffer({ redis: publisher, keyPrefix: prefix, maxLength: 10 });
    assert.equal(buffer.publishesTo(broker), true);
    assert.equal(buffer.publishesTo(new RedisBroker({ publisher, subscriber, channelPrefix: `${prefix}x` })), false);
    const session = randomUUID();
    const received: SseEvent[] = [];
    await broker.subscribe(session, (event) => received.push(event));
    const message = { jsonrpc: '2.0' as const, method: 'notifications/message', params: { level: 'info', data: 'x' } };
    await publishRetained(buffer, broker, randomUUID(), 'g', message); // loads the script into Redis
    const before = await commandStats(publisher);
    const result = await publishRetained(buffer, broker, session, 'g', message);
    const after = await commandStats(publisher);
    const delta = (name: string) => (after[name] ?? 0) - (before[name] ?? 0);
    assert.deepEqual(result, { id: 'g/1', delivered: true });
    // One round trip from the client (EVALSHA), running one XADD and one PUBLISH inside Redis.
    assert.equal(delta('evalsha') + delta('eval'), 1);
    assert.equal(delta('xadd'), 1);
    assert.equal(delta('publish'), 1);
    await waitFor(() => received.length === 1);
    assert.deepEqual(received[0], { type: 'message', id: 'g/1', message });
    // Nobody listening: still retained, reported undelivered.
    const nobody = await publishRetained(buffer, broker, randomUUID(), 'g', message);
    assert.deepEqual(nobody, { id: 'g/1', delivered: false });
    await broker.close();
  });

  test('cluster hub: retained and routed to the holder in one IPC round trip', async () => {
    const loopback = loopbackCluster();
    const hub = attachClusterHub(loopback.cluster, { replay: { maxLength: 10 } });
    const port = loopback.port();
    const broker = new ClusterBroker({ port });
    const buffer = new ClusterReplayBuffer({ port });
    try {
      const session = randomUUID();
      const received: SseEvent[] = [];
      await broker.subscribe(session, (event) => received.push(event));
      const message = { jsonrpc: '2.0' as const, method: 'ping' };
      assert.deepEqual(await publishRetained(buffer, broker, session, 'g', message), { id: 'g/1', delivered: true });
      assert.deepEqual(received, [{ type: 'message', id: 'g/1', message }]);
    } finally {
      await broker.close();
      await buffer.close();
      await hub.detach();
    }
  });
});

async function commandStats(client: import('ioredis').Redis): Promise<Record<string, number>> {
  const info = await client.info('commandstats');
  return Object.fromEntries([...info.matchAll(/cmdstat_(\w+):calls=(\d+)/g)].map((m) => [m[1]!, Number(m[2])]));
}

async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
