// Every broker against the one contract, then what only the Redis broker promises: its channel
// names, its prefixes, its one PUBLISH, borrowed clients, and surviving a Redis restart.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, describe, it } from 'node:test';
import type { RedisOptions } from 'ioredis';
import { MemoryBroker } from '../../src/broker/memory.ts';
import { RedisBroker } from '../../src/broker/redis.ts';
import { RedisClients, startRedis, type RedisHandle } from '../helpers/redis.ts';
import { brokerContract, eventually, flush, message, recorder, sessionId } from './contract.ts';

let redis: RedisHandle;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis.stop();
});

brokerContract('MemoryBroker', async () => {
  const broker = new MemoryBroker();
  return { brokers: [broker, broker], cleanup: () => broker.close() };
});

// A fresh prefix per test keeps tests apart even on a shared REDIS_URL server.
const testPrefix = () => `test-${randomUUID()}`;

brokerContract('RedisBroker', async () => {
  const clients = new RedisClients(redis.url);
  const channelPrefix = testPrefix();
  const worker = async (name: string) =>
    new RedisBroker({
      publisher: await clients.create(`${name}-publisher`),
      subscriber: await clients.create(`${name}-subscriber`),
      channelPrefix,
    });
  const brokers: [RedisBroker, RedisBroker] = [await worker('a'), await worker('b')];
  return {
    brokers,
    async cleanup() {
      await Promise.all(brokers.map((broker) => broker.close()));
      await clients.closeAll();
    },
  };
});

describe('RedisBroker on a real redis-server', () => {
  let clients: RedisClients;
  const brokers: RedisBroker[] = [];

  before(() => {
    clients = new RedisClients(redis.url);
  });
  afterEach(async () => {
    await Promise.all(brokers.splice(0).map((broker) => broker.close()));
    await clients.closeAll();
  });

  async function connections(name: string, options: RedisOptions = {}) {
    return {
      publisher: await clients.create(`${name}-publisher`, options),
      subscriber: await clients.create(`${name}-subscriber`, options),
    };
  }

  async function broker(name: string, channelPrefix?: string, options: RedisOptions = {}) {
    const created = new RedisBroker({ ...(await connections(name, options)), channelPrefix });
    brokers.push(created);
    return created;
  }

  it('uses the channel <prefix>:sse:<sessionId>, and `mcp` by default', async () => {
    const prefix = testPrefix();
    const s = sessionId();
    const admin = await clients.create('admin');
    const prefixed = await broker('prefixed', prefix);
    await prefixed.subscribe(s, recorder().listener);
    assert.deepEqual(await admin.pubsub('CHANNELS', `${prefix}:*`), [`${prefix}:sse:${s}`]);

    // A raw subscriber on that exact channel sees the broker's publish, tagged on the wire.
    const raw = await clients.create('raw-subscriber');
    const received = new Promise<string>((resolve) => raw.once('message', (_channel: string, payload: string) => resolve(payload)));
    await raw.subscribe(`${prefix}:sse:${s}`);
    assert.equal(await prefixed.publish(s, message(7)), true);
    const wire = JSON.parse(await received) as Record<string, unknown>;
    assert.equal(wire.type, 'event');
    assert.equal(typeof wire.origin, 'string');
    assert.deepEqual(wire.event, message(7));

    const byDefault = await broker('default');
    const other = sessionId();
    await byDefault.subscribe(other, recorder().listener);
    assert.deepEqual(await admin.pubsub('CHANNELS', `mcp:sse:${other}`), [`mcp:sse:${other}`]);
  });

  it('brokers with different prefixes on one Redis never cross-talk, even sharing connections', async () => {
    const shared = await connections('shared');
    const staging = new RedisBroker({ ...shared, channelPrefix: testPrefix() });
    const prod = new RedisBroker({ ...shared, channelPrefix: testPrefix() });
    brokers.push(staging, prod);
    const s = sessionId();
    const [onStaging, onProd] = [recorder(), recorder()];
    await staging.subscribe(s, onStaging.listener);
    await prod.subscribe(s, onProd.listener); // same session id: no takeover across prefixes
    assert.equal(await staging.publish(s, message(1)), true);
    assert.equal(await prod.publish(s, message(2)), true);
    assert.deepEqual(await onStaging.next(), message(1));
    assert.deepEqual(await onProd.next(), message(2));
    await staging.unsubscribe(s);
    assert.equal(await staging.hasSubscriber(s), false);
    assert.equal(await prod.hasSubscriber(s), true);
    await flush(staging);
    await flush(prod);
    assert.deepEqual(onStaging.events, [message(1)]);
    assert.deepEqual(onProd.events, [message(2)]);
  });

  it('publish is exactly one PUBLISH', async () => {
    const admin = await clients.create('admin');
    const monitor = clients.track(await admin.monitor());
    const seen: string[][] = [];
    monitor.on('monitor', (_time: string, args: string[]) => seen.push(args));
    // MONITOR lists commands in execution order: an ECHO sent after a command shows up after it.
    const mark = async () => {
      const token = `mark-${randomUUID()}`;
      await admin.echo(token);
      await eventually(async () => seen.some((args) => args[1] === token), 'MONITOR showed the mark');
      return seen.length;
    };
    const publishesBetween = (from: number, to: number) =>
      seen.slice(from, to).filter((args) => args[0]?.toLowerCase() === 'publish');

    const prefix = testPrefix();
    const [a, b] = [await broker('a', prefix), await broker('b', prefix)];
    const s = sessionId();
    await a.subscribe(s, recorder().listener);

    const start = await mark();
    assert.equal(await b.publish(s, message(1)), true);
    const end = await mark();
    const publishes = publishesBetween(start, end);
    assert.equal(publishes.length, 1, JSON.stringify(publishes));
    assert.equal(publishes[0]?.[1], `${prefix}:sse:${s}`);

    const nobody = await mark();
    assert.equal(await b.publish(sessionId(), message(2)), false);
    assert.equal(publishesBetween(nobody, await mark()).length, 1);
  });

  it('subscribe resolves only once Redis confirmed the SUBSCRIBE, even on a slow connection', async () => {
    const prefix = testPrefix();
    const slow = await connections('slow');
    const a = new RedisBroker({ ...slow, channelPrefix: prefix });
    const b = await broker('b', prefix);
    brokers.push(a);
    // A blocked command holds back everything queued behind it on that connection, as a slow
    // link would: the SUBSCRIBE is sent at once but only runs when the BLPOP times out.
    const blocked = slow.subscriber.blpop(`${prefix}:nothing`, 0.2);
    const s = sessionId();
    const r = recorder();
    await a.subscribe(s, r.listener);
    assert.equal(await b.publish(s, message(1)), true, 'subscribe resolved before the subscription was live');
    assert.deepEqual(await r.next(), message(1));
    assert.equal(await blocked, null);
  });

  it('the process that lost a session to a takeover unsubscribes its channel', async () => {
    const prefix = testPrefix();
    const [a, b] = [await broker('a', prefix), await broker('b', prefix)];
    const admin = await clients.create('admin');
    const s = sessionId();
    const numsub = async () => Number(((await admin.pubsub('NUMSUB', `${prefix}:sse:${s}`)) as unknown[])[1]);
    const old = recorder();
    await a.subscribe(s, old.listener);
    await b.subscribe(s, recorder().listener);
    await old.next();
    await eventually(async () => (await numsub()) === 1, 'only the new subscriber is left on the channel');
  });

  it('ignores a stray PUBLISH on a session channel', async () => {
    const prefix = testPrefix();
    const a = await broker('a', prefix);
    const admin = await clients.create('admin');
    const s = sessionId();
    const r = recorder();
    await a.subscribe(s, r.listener);
    for (const stray of ['hello', '{"type":"event"}', '{"type":"takeover","token":"x"}', 'null', '[1]']) {
      assert.equal(await admin.publish(`${prefix}:sse:${s}`, stray), 1);
    }
    await flush(a);
    assert.deepEqual(r.events, []);
    assert.equal(await a.publish(s, message(1)), true);
    assert.deepEqual(await r.next(), message(1));
  });

  it('close leaves the given clients connected and usable', async () => {
    const { publisher, subscriber } = await connections('borrowed');
    const borrowed = new RedisBroker({ publisher, subscriber, channelPrefix: testPrefix() });
    await borrowed.subscribe(sessionId(), recorder().listener);
    await borrowed.subscribe(sessionId(), recorder().listener);
    await borrowed.close();
    assert.equal(publisher.status, 'ready');
    assert.equal(subscriber.status, 'ready');
    assert.equal(await publisher.ping(), 'PONG');
    // A count of 1 also proves close() unsubscribed both of the broker's channels.
    assert.equal(await subscriber.subscribe(`unrelated-${randomUUID()}`), 1);
  });

  for (const autoResubscribe of [true, false]) {
    it(`subscriptions come back after a Redis restart (autoResubscribe: ${autoResubscribe})`, async (t) => {
      if (!redis.owned) return t.skip('needs its own redis-server (REDIS_URL is set)');
      const prefix = testPrefix();
      const options: RedisOptions = { autoResubscribe, retryStrategy: () => 20 };
      const [a, b] = [await broker('a', prefix, options), await broker('b', prefix, options)];
      const s = sessionId();
      const r = recorder();
      await a.subscribe(s, r.listener);
      assert.equal(await b.publish(s, message(0)), true);
      assert.deepEqual(await r.next(), message(0));

      await redis.restart();

      // Messages published while the subscriber is still reconnecting reach nobody (false):
      // keep publishing until one is delivered.
      let n = 1;
      await eventually(async () => (await b.publish(s, message(n++)).catch(() => false)) === true, 'a publish is delivered again');
      const delivered = await r.next();
      assert.equal(delivered.type, 'message');
      assert.equal(await b.hasSubscriber(s), true);
      assert.equal(await b.publish(s, message(1000)), true);
      assert.deepEqual(await r.next(), message(1000));
      assert.ok(!r.events.some((e) => e.type === 'end'), 'the stream was ended by the restart');

      // And new subscriptions work as before.
      const fresh = recorder();
      const other = sessionId();
      await a.subscribe(other, fresh.listener);
      assert.equal(await b.publish(other, message(1)), true);
      assert.deepEqual(await fresh.next(), message(1));
    });
  }
});
