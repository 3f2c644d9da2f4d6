// The SessionStore contract, written once and run against every store (sessions.test.ts).

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, it } from 'node:test';
import type { SessionRecord, SessionStore } from '../../src/sessions/store.ts';

export interface StorePair {
  /** Two stores over one backend, as two workers would hold them (memory: one instance twice). */
  stores: [SessionStore, SessionStore];
  cleanup(): Promise<void>;
}

export type StoreFactory = (options: { idleTimeoutMs?: number }) => Promise<StorePair>;

export function session(overrides: Partial<SessionRecord> = {}): SessionRecord {
  const now = Date.now();
  return {
    id: `session-${randomUUID()}`,
    protocolVersion: '2025-11-25',
    clientInfo: { name: 'test-client', version: '1.2.3' },
    clientCapabilities: {},
    initialized: false,
    createdAt: now,
    lastSeenAt: now,
    ...overrides,
  };
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it holds; idle expiry is asynchronous by nature. */
async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await delay(20);
  }
}

export function sessionStoreContract(name: string, factory: StoreFactory): void {
  describe(`SessionStore contract: ${name}`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    afterEach(async () => {
      await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
    });
    async function stores(options: { idleTimeoutMs?: number } = {}): Promise<[SessionStore, SessionStore]> {
      const pair = await factory(options);
      cleanups.push(pair.cleanup);
      return pair.stores;
    }

    it('a created session reads back the same from any store', async () => {
      const [a, b] = await stores();
      const full = session({
        clientInfo: { name: 'full', version: '2.0.0', title: 'Full client' },
        clientCapabilities: { sampling: {}, roots: { listChanged: true }, elicitation: { form: {} } },
        principal: 'user:42',
        logLevel: 'warning',
        initialized: true,
      });
      const minimal = session();
      await a.create(full);
      await a.create(minimal);
      assert.deepEqual(await b.get(full.id), full);
      assert.deepEqual(await b.get(minimal.id), minimal);
    });

    it('get of an unknown id resolves undefined', async () => {
      const [a] = await stores();
      assert.equal(await a.get(`session-${randomUUID()}`), undefined);
    });

    it('creating over an existing id replaces the record', async () => {
      const [a, b] = await stores();
      const first = session({ principal: 'user:1', logLevel: 'debug' });
      const second = session({ id: first.id, protocolVersion: '2025-06-18' });
      await a.create(first);
      await b.create(second);
      assert.deepEqual(await a.get(first.id), second);
    });

    it('a returned record is a copy', async () => {
      const [a] = await stores();
      const record = session();
      await a.create(record);
      record.protocolVersion = 'changed after create';
      const read = await a.get(record.id);
      assert.ok(read);
      read.initialized = true;
      assert.deepEqual(await a.get(record.id), { ...record, protocolVersion: '2025-11-25' });
    });

    it('update changes only the patched fields, for every store', async () => {
      const [a, b] = await stores();
      const record = session();
      await a.create(record);
      await b.update(record.id, { logLevel: 'error' });
      await a.update(record.id, { initialized: true });
      assert.deepEqual(await a.get(record.id), { ...record, logLevel: 'error', initialized: true });
      await b.update(record.id, { logLevel: 'debug' });
      assert.deepEqual(await b.get(record.id), { ...record, logLevel: 'debug', initialized: true });
    });

    it('update and touch of an unknown session do not create it', async () => {
      const [a] = await stores();
      const id = `session-${randomUUID()}`;
      await a.update(id, { initialized: true });
      await a.touch(id);
      assert.equal(await a.get(id), undefined);
    });

    it('touch records activity', async () => {
      const [a, b] = await stores();
      const record = session({ lastSeenAt: Date.now() - 60_000 });
      await a.create(record);
      const before = Date.now();
      await b.touch(record.id);
      const read = await a.get(record.id);
      assert.ok(read && read.lastSeenAt >= before, `lastSeenAt ${read?.lastSeenAt} not moved to ${before} or later`);
      assert.deepEqual(read, { ...record, lastSeenAt: read.lastSeenAt });
    });

    it('delete removes the session and resolves true only when it existed', async () => {
      const [a, b] = await stores();
      const record = session();
      await a.create(record);
      assert.equal(await b.delete(record.id), true);
      assert.equal(await a.get(record.id), undefined);
      assert.equal(await a.delete(record.id), false);
    });

    it('resource subscriptions are visible from every store', async () => {
      const [a, b] = await stores();
      const [s1, s2] = [session(), session()];
      await a.create(s1);
      await a.create(s2);
      const uri = `file:///${randomUUID()}/a.txt`;
      assert.deepEqual(await a.subscribersOf(uri), []);
      await a.subscribeResource(s1.id, uri);
      await b.subscribeResource(s2.id, uri);
      await b.subscribeResource(s2.id, uri); // twice is once
      assert.deepEqual((await a.subscribersOf(uri)).sort(), [s1.id, s2.id].sort());
      await b.unsubscribeResource(s1.id, uri);
      await b.unsubscribeResource(s1.id, `${uri}.unknown`);
      assert.deepEqual(await a.subscribersOf(uri), [s2.id]);
      await a.unsubscribeResource(s2.id, uri);
      assert.deepEqual(await b.subscribersOf(uri), []);
    });

    it('deleting a session removes it from every uri it subscribed to', async () => {
      const [a, b] = await stores();
      const [gone, stays] = [session(), session()];
      await a.create(gone);
      await a.create(stays);
      const [u1, u2] = [`test://${randomUUID()}/1`, `test://${randomUUID()}/2`];
      await a.subscribeResource(gone.id, u1);
      await a.subscribeResource(gone.id, u2);
      await a.subscribeResource(stays.id, u1);
      await b.delete(gone.id);
      assert.deepEqual(await a.subscribersOf(u1), [stays.id]);
      assert.deepEqual(await a.subscribersOf(u2), []);
    });

    it('an idle session expires, and its subscriptions with it', async () => {
      const [a, b] = await stores({ idleTimeoutMs: 200 });
      const record = session();
      const uri = `test://${randomUUID()}`;
      await a.create(record);
      await a.subscribeResource(record.id, uri);
      assert.deepEqual(await b.get(record.id), record, 'expired at once');
      await eventually(async () => (await b.get(record.id)) === undefined, 'the idle session expired');
      assert.deepEqual(await a.subscribersOf(uri), []);
      assert.equal(await a.delete(record.id), false);
    });

    it('touch pushes idle expiry back', async () => {
      const [a, b] = await stores({ idleTimeoutMs: 400 });
      const record = session();
      await a.create(record);
      // Keep it busy for well over the idle timeout: it must survive.
      const until = Date.now() + 1_000;
      while (Date.now() < until) {
        await b.touch(record.id);
        assert.ok(await a.get(record.id), 'expired although it was touched');
        await delay(50);
      }
      await eventually(async () => (await a.get(record.id)) === undefined, 'the session expired once left alone');
    });
  });
}
