// Every session store against the one contract, then the Redis store's own promises: its key
// layout, idle TTL, no leftovers, and a borrowed client.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, describe, it } from 'node:test';
import { MemorySessionStore } from '../../src/sessions/memory.ts';
import { RedisSessionStore } from '../../src/sessions/redis.ts';
import { deleteKeys, RedisClients, startRedis, type RedisHandle } from '../helpers/redis.ts';
import { session, sessionStoreContract } from './contract.ts';
import { CachedSessionStore } from '../../src/sessions/cached.ts';

let redis: RedisHandle;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis.stop();
});

sessionStoreContract('MemorySessionStore', async (options) => {
  const store = new MemorySessionStore(options);
  return { stores: [store, store], cleanup: () => store.close() };
});

sessionStoreContract('RedisSessionStore', async (options) => {
  const clients = new RedisClients(redis.url);
  const keyPrefix = `test-${randomUUID()}`;
  const workerA = await clients.create('worker-a');
  const stores: [RedisSessionStore, RedisSessionStore] = [
    new RedisSessionStore({ redis: workerA, keyPrefix, ...options }),
    new RedisSessionStore({ redis: await clients.create('worker-b'), keyPrefix, ...options }),
  ];
  return {
    stores,
    async cleanup() {
      await Promise.all(stores.map((store) => store.close()));
      await deleteKeys(workerA, keyPrefix);
      await clients.closeAll();
    },
  };
});

// A fresh prefix per test keeps tests apart even on a shared REDIS_URL server.
describe('RedisSessionStore on a real redis-server', () => {
  let clients: RedisClients;
  const prefixes: string[] = [];
  const testPrefix = () => {
    const prefix = `test-${randomUUID()}`;
    prefixes.push(prefix);
    return prefix;
  };
  before(() => {
    clients = new RedisClients(redis.url);
  });
  afterEach(async () => {
    const janitor = await clients.create('janitor');
    for (const prefix of prefixes.splice(0)) await deleteKeys(janitor, prefix);
    await clients.closeAll();
  });

  it('keeps a session in <prefix>:session:<id> with an idle TTL, and subscriptions in <prefix>:subs:<uri>', async () => {
    const client = await clients.create('store');
    const keyPrefix = testPrefix();
    const store = new RedisSessionStore({ redis: client, keyPrefix, idleTimeoutMs: 60_000 });
    const record = session();
    const uri = 'file:///project/readme.md';
    await store.create(record);
    await store.subscribeResource(record.id, uri);

    const key = `${keyPrefix}:session:${record.id}`;
    assert.equal(await client.type(key), 'hash');
    const ttl = await client.pttl(key);
    assert.ok(ttl > 55_000 && ttl <= 60_000, `PTTL ${ttl}`);
    assert.deepEqual(await client.smembers(`${keyPrefix}:subs:${uri}`), [record.id]);

    // touch pushes the TTL back to the full idle timeout.
    await client.pexpire(key, 1_000);
    await store.touch(record.id);
    assert.ok((await client.pttl(key)) > 55_000, 'touch did not refresh the TTL');
    await client.pexpire(key, 1_000);
    await store.update(record.id, { initialized: true });
    assert.ok((await client.pttl(key)) > 55_000, 'update did not refresh the TTL');
    await store.close();
  });

  it('delete leaves no key behind', async () => {
    const client = await clients.create('store');
    const keyPrefix = testPrefix();
    const store = new RedisSessionStore({ redis: client, keyPrefix });
    const record = session({ principal: 'user:1' });
    await store.create(record);
    await store.subscribeResource(record.id, 'test://a');
    await store.subscribeResource(record.id, 'test://b');
    assert.ok((await client.keys(`${keyPrefix}:*`)).length > 0);
    assert.equal(await store.delete(record.id), true);
    assert.deepEqual(await client.keys(`${keyPrefix}:*`), []);
  });

  it('two prefixes on one Redis keep their sessions apart', async () => {
    const client = await clients.create('store');
    const staging = new RedisSessionStore({ redis: client, keyPrefix: testPrefix() });
    const prod = new RedisSessionStore({ redis: client, keyPrefix: testPrefix() });
    const record = session();
    await staging.create(record);
    await staging.subscribeResource(record.id, 'test://shared');
    assert.equal(await prod.get(record.id), undefined);
    assert.deepEqual(await prod.subscribersOf('test://shared'), []);
    assert.equal(await prod.delete(record.id), false);
    assert.deepEqual(await staging.get(record.id), record);
  });

  it('close leaves the given client connected', async () => {
    const client = await clients.create('store');
    const store = new RedisSessionStore({ redis: client, keyPrefix: testPrefix() });
    await store.create(session());
    await store.close();
    assert.equal(client.status, 'ready');
    assert.equal(await client.ping(), 'PONG');
  });
});

// Two workers' caches over one Redis, each announcing its changes to the other (the cluster bus
// in production). Short TTL and unthrottled touches: the contract's expiry checks run in ms.
sessionStoreContract('CachedSessionStore over RedisSessionStore', async (options) => {
  const clients = new RedisClients(redis.url);
  const keyPrefix = `test-${randomUUID()}`;
  const workerA = await clients.create('cached-a');
  const a = new CachedSessionStore(new RedisSessionStore({ redis: workerA, keyPrefix, ...options }), { ttlMs: 20, touchEveryMs: 0 });
  const b = new CachedSessionStore(new RedisSessionStore({ redis: await clients.create('cached-b'), keyPrefix, ...options }), { ttlMs: 20, touchEveryMs: 0 });
  a.announceChangesWith(async (id) => b.invalidate(id));
  b.announceChangesWith(async (id) => a.invalidate(id));
  return {
    stores: [a, b],
    async cleanup() {
      await Promise.all([a.close(), b.close()]);
      await deleteKeys(workerA, keyPrefix);
      await clients.closeAll();
    },
  };
});
