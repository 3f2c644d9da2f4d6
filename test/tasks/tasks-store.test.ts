// The task store contract against every implementation: memory, Redis, and the primary's hub
// reached over IPC. Compare-and-set is what keeps the worker running a task and the workers
// answering its client from overwriting each other.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { attachClusterHub } from '../../src/cluster/hub.ts';
import { ClusterTaskStore } from '../../src/tasks/cluster.ts';
import { MemoryTaskStore } from '../../src/tasks/memory.ts';
import { RedisTaskStore } from '../../src/tasks/redis.ts';
import { updateTask, type TaskRecord, type TaskStore } from '../../src/tasks/store.ts';
import { loopbackCluster } from '../helpers/loopback-cluster.ts';
import { redisForFile } from '../helpers/redis.ts';

function newTask(ttlMs = 60_000): TaskRecord {
  const now = new Date().toISOString();
  return { taskId: randomUUID(), status: 'working', createdAt: now, lastUpdatedAt: now, ttlMs, pollIntervalMs: 100, version: 1 };
}

function taskStoreContract(name: string, make: () => Promise<{ store: TaskStore; cleanup(): Promise<void> }>) {
  describe(`TaskStore contract: ${name}`, () => {
    let store: TaskStore;
    let cleanup: () => Promise<void>;
    before(async () => ({ store, cleanup } = await make()));
    after(() => cleanup());

    test('a created task reads back; an unknown one is undefined', async () => {
      const task = newTask();
      await store.create(task);
      assert.deepEqual(await store.get(task.taskId), task);
      assert.equal(await store.get('no-such-task'), undefined);
    });

    test('compare-and-set lands on the expected version only', async () => {
      const task = newTask();
      await store.create(task);
      assert.equal(await store.compareAndSet(task.taskId, 1, { ...task, status: 'completed', version: 2 }), true);
      assert.equal(await store.compareAndSet(task.taskId, 1, { ...task, status: 'failed', version: 2 }), false);
      assert.equal((await store.get(task.taskId))!.status, 'completed');
      assert.equal(await store.compareAndSet('no-such-task', 1, task), false);
    });

    test('concurrent changes through updateTask all land (none is lost)', async () => {
      const task = newTask();
      await store.create(task);
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          updateTask(store, task.taskId, (current) => ({ ...current, answers: { ...current.answers, [`k${i}`]: i } })),
        ),
      );
      const stored = (await store.get(task.taskId))!;
      assert.equal(Object.keys(stored.answers ?? {}).length, 10);
      assert.equal(stored.version, 11);
    });

    test('a task expires after its ttl, changes do not extend it', async () => {
      const task = newTask(300);
      await store.create(task);
      await updateTask(store, task.taskId, (current) => ({ ...current, statusMessage: 'changed' }));
      assert.equal((await store.get(task.taskId))!.statusMessage, 'changed');
      await new Promise((resolve) => setTimeout(resolve, 450));
      assert.equal(await store.get(task.taskId), undefined);
    });
  });
}

taskStoreContract('MemoryTaskStore', async () => {
  const store = new MemoryTaskStore();
  return { store, cleanup: () => store.close() };
});

const redis = redisForFile();

taskStoreContract('RedisTaskStore', async () => {
  const client = await redis.clients.create('tasks-contract');
  const store = new RedisTaskStore({ redis: client, keyPrefix: `tc${randomUUID().slice(0, 8)}` });
  return { store, cleanup: () => store.close() };
});

taskStoreContract('ClusterTaskStore (in-process hub)', async () => {
  const loopback = loopbackCluster();
  const hub = attachClusterHub(loopback.cluster);
  const store = new ClusterTaskStore({ port: loopback.port() });
  return {
    store,
    async cleanup() {
      await store.close();
      await hub.detach();
    },
  };
});
