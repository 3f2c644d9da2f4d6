// The subscription broker contract, once, against memory, Redis and the cluster hub.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { attachClusterHub } from '../../src/cluster/hub.ts';
import { ClusterSubscriptionBroker } from '../../src/topics/cluster.ts';
import { MemorySubscriptionBroker } from '../../src/topics/memory.ts';
import { RedisSubscriptionBroker } from '../../src/topics/redis.ts';
import type { SubscriptionBroker } from '../../src/topics/topics.ts';
import { loopbackCluster } from '../helpers/loopback-cluster.ts';
import { redisForFile } from '../helpers/redis.ts';

interface Pair {
  /** Two processes' brokers over one backend (memory: one instance twice). */
  brokers: [SubscriptionBroker, SubscriptionBroker];
  cleanup(): Promise<void>;
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 3_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function topicsContract(name: string, create: () => Promise<Pair>) {
  describe(`SubscriptionBroker contract: ${name}`, () => {
    let pair: Pair;
    before(async () => {
      pair = await create();
    });
    after(() => pair.cleanup());

    test('an event published anywhere right after subscribe resolves reaches every listener of the topic once', async () => {
      const [a, b] = pair.brokers;
      const topic = `t-${randomUUID()}`;
      const got: Array<[string, string, unknown]> = [];
      const stopA = await a.subscribe([topic, 'other'], (t, e) => got.push(['a', t, e]));
      const stopB = await b.subscribe([topic], (t, e) => got.push(['b', t, e]));
      const reached = await b.publish(topic, { n: 1 });
      assert.ok(reached >= 1);
      await until(() => got.length === 2, 'both listeners');
      assert.deepEqual(got.sort(), [['a', topic, { n: 1 }], ['b', topic, { n: 1 }]]);
      await stopA();
      await stopB();
    });

    test('nobody listening: publish reaches 0; after unsubscribe nothing arrives', async () => {
      const [a, b] = pair.brokers;
      const topic = `t-${randomUUID()}`;
      assert.equal(await a.publish(topic, 'x'), 0);
      const got: unknown[] = [];
      const stop = await a.subscribe([topic], (_t, e) => got.push(e));
      await stop();
      assert.equal(await b.publish(topic, 'y'), 0);
      const probe = `p-${randomUUID()}`;
      const seen: unknown[] = [];
      const stopProbe = await a.subscribe([probe], (_t, e) => seen.push(e));
      await b.publish(probe, 'after');
      await until(() => seen.length === 1, 'probe event');
      assert.deepEqual(got, []);
      await stopProbe();
    });

    test('a topic stays subscribed while another local listener still wants it', async () => {
      const [a, b] = pair.brokers;
      const topic = `t-${randomUUID()}`;
      const first: unknown[] = [];
      const second: unknown[] = [];
      const stopFirst = await a.subscribe([topic], (_t, e) => first.push(e));
      const stopSecond = await a.subscribe([topic], (_t, e) => second.push(e));
      await stopFirst();
      await b.publish(topic, 'still');
      await until(() => second.length === 1, 'second listener');
      assert.deepEqual(first, []);
      await stopSecond();
    });
  });
}

topicsContract('MemorySubscriptionBroker', async () => {
  const broker = new MemorySubscriptionBroker();
  return { brokers: [broker, broker], cleanup: () => broker.close() };
});

const redis = redisForFile();

topicsContract('RedisSubscriptionBroker', async () => {
  const prefix = `tp${randomUUID().slice(0, 6)}`;
  const make = async (n: number) =>
    new RedisSubscriptionBroker({
      publisher: await redis.clients.create(`topics-pub-${n}`),
      subscriber: await redis.clients.create(`topics-sub-${n}`),
      channelPrefix: prefix,
    });
  const brokers: [SubscriptionBroker, SubscriptionBroker] = [await make(1), await make(2)];
  return { brokers, cleanup: async () => void (await Promise.all(brokers.map((b) => b.close()))) };
});

topicsContract('ClusterSubscriptionBroker (in-process hub)', async () => {
  const loopback = loopbackCluster();
  const hub = attachClusterHub(loopback.cluster);
  const brokers: [SubscriptionBroker, SubscriptionBroker] = [
    new ClusterSubscriptionBroker({ port: loopback.port() }),
    new ClusterSubscriptionBroker({ port: loopback.port() }),
  ];
  return {
    brokers,
    async cleanup() {
      await Promise.all(brokers.map((b) => b.close()));
      await hub.detach();
    },
  };
});
