// The cluster backend (several workers, no Redis): ClusterBroker and ClusterSessionStore in real
// node:cluster workers talking to the hub in a real primary; the shared broker contract over an
// in-process hub; and what a worker sees when the primary cannot answer.

import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { SseEvent } from '../../src/broker/broker.ts';
import { ClusterBroker } from '../../src/broker/cluster.ts';
import { attachClusterHub } from '../../src/cluster/hub.ts';
import { ClusterIpcError, processPort, type IpcPort } from '../../src/cluster/ipc.ts';
import { loopbackCluster } from '../helpers/loopback-cluster.ts';
import { ClusterSessionStore } from '../../src/sessions/cluster.ts';
import type { SessionRecord } from '../../src/sessions/store.ts';
import { brokerContract, message, recorder, sessionId, type Recorder } from '../broker/contract.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/cluster-ipc.ts', import.meta.url));
const START_TIMEOUT_MS = 10_000;
const CALL_TIMEOUT_MS = 5_000;
const TAKEOVER: SseEvent = { type: 'end', reason: 'takeover' };

type FixtureMessage =
  | { type: 'ready' }
  | { type: 'reply'; id: number; ok: true; value?: unknown }
  | { type: 'reply'; id: number; ok: false; error: string }
  | { type: 'event'; worker: number; name: string; sessionId: string; event: SseEvent }
  | { type: 'exit'; worker: number; code: number | null; signal: string | null };

/** The primary of test/fixtures/cluster-ipc.ts, as a child process, and its two workers. */
class ClusterFixture {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  readonly #recorders = new Map<string, Recorder>();
  readonly #exits = new Map<number, Promise<void>>();
  readonly #exited = new Map<number, () => void>();
  #sequence = 0;

  private constructor(child: ChildProcess) {
    this.#child = child;
    for (const index of [1, 2]) this.#exits.set(index, new Promise((resolve) => this.#exited.set(index, resolve)));
    child.on('message', (m: FixtureMessage) => {
      if (m.type === 'reply') {
        const pending = this.#pending.get(m.id);
        this.#pending.delete(m.id);
        if (m.ok) pending?.resolve(m.value);
        else pending?.reject(new Error(m.error));
      } else if (m.type === 'event') {
        this.recorder(m.worker, m.name).listener(m.event);
      } else if (m.type === 'exit') {
        this.#exited.get(m.worker)?.();
      }
    });
    child.on('exit', () => {
      for (const { reject } of this.#pending.values()) reject(new Error('the cluster primary exited'));
      this.#pending.clear();
    });
  }

  static async start(): Promise<ClusterFixture> {
    const child = fork(FIXTURE, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const fixture = new ClusterFixture(child);
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the cluster did not start in time')), START_TIMEOUT_MS);
      child.on('message', (m: FixtureMessage) => {
        if (m.type !== 'ready') return;
        clearTimeout(timer);
        resolve();
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the cluster primary exited with ${code} before it was ready`));
      });
    });
    await ready;
    return fixture;
  }

  call(to: 'primary' | number, cmd: string, args: Record<string, unknown> = {}): Promise<unknown> {
    const id = ++this.#sequence;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply to ${cmd} from ${to}`)), CALL_TIMEOUT_MS);
      this.#pending.set(id, {
        resolve: (value) => (clearTimeout(timer), resolve(value)),
        reject: (error) => (clearTimeout(timer), reject(error)),
      });
      this.#child.send({ id, to, cmd, args });
    });
  }

  /** What the listener `name` of a worker received. */
  recorder(worker: number, name: string): Recorder {
    const key = `${worker}/${name}`;
    let found = this.#recorders.get(key);
    if (!found) this.#recorders.set(key, (found = recorder()));
    return found;
  }

  worker(index: number): WorkerDriver {
    return new WorkerDriver(this, index);
  }

  exited(worker: number): Promise<void> {
    return this.#exits.get(worker)!;
  }

  holderOf(session: string): Promise<number | null> {
    return this.call('primary', 'holderOf', { sessionId: session }) as Promise<number | null>;
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = once(this.#child, 'exit');
    // The primary kills its workers when it loses its channel to us, then exits.
    this.#child.disconnect();
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 3_000);
    await exited;
    clearTimeout(timer);
  }
}

/** One worker's broker and session store, driven from the test. */
class WorkerDriver {
  #names = 0;
  constructor(
    readonly fixture: ClusterFixture,
    readonly index: number,
  ) {}

  /** Subscribes a fresh recording listener; resolves with it once subscribe resolved there. */
  async subscribe(session: string, mode: 'record' | 'die' = 'record'): Promise<{ name: string; events: Recorder }> {
    const name = `${session}#${++this.#names}`;
    const events = this.fixture.recorder(this.index, name);
    await this.fixture.call(this.index, 'subscribe', { sessionId: session, name, mode });
    return { name, events };
  }

  unsubscribe(session: string, name?: string): Promise<unknown> {
    return this.fixture.call(this.index, 'unsubscribe', { sessionId: session, name });
  }

  publish(session: string, event: SseEvent): Promise<boolean> {
    return this.fixture.call(this.index, 'publish', { sessionId: session, event }) as Promise<boolean>;
  }

  hasSubscriber(session: string): Promise<boolean> {
    return this.fixture.call(this.index, 'hasSubscriber', { sessionId: session }) as Promise<boolean>;
  }

  sessions(op: string, ...args: unknown[]): Promise<unknown> {
    return this.fixture.call(this.index, 'sessions', { op, args });
  }

  /** Resolves once everything published to this worker before the call has reached it. */
  async flush(): Promise<void> {
    const probe = sessionId();
    const { events } = await this.subscribe(probe);
    assert.equal(await this.publish(probe, message(-1)), true, 'probe not delivered');
    await events.next();
    await this.unsubscribe(probe);
  }
}

function sessionRecord(id: string): SessionRecord {
  const now = Date.now();
  return {
    id,
    protocolVersion: '2025-11-25',
    clientInfo: { name: 'test-client', version: '1.0.0' },
    clientCapabilities: { roots: { listChanged: true } },
    principal: 'alice',
    initialized: false,
    createdAt: now,
    lastSeenAt: now,
  };
}

describe('cluster IPC backend in a real node:cluster', { timeout: 20_000 }, () => {
  let fixture: ClusterFixture;
  let w1: WorkerDriver;
  let w2: WorkerDriver;

  before(async () => {
    fixture = await ClusterFixture.start();
    w1 = fixture.worker(1);
    w2 = fixture.worker(2);
  });
  after(async () => {
    await fixture?.stop();
  });

  it('a publish from one worker reaches the subscriber held by another, in order, and resolves true', async () => {
    const s = sessionId();
    const { events } = await w2.subscribe(s);
    assert.equal(await w1.publish(s, message(1, 'stream-1/1')), true);
    assert.deepEqual(await events.next(), message(1, 'stream-1/1'));
    const burst = Array.from({ length: 20 }, (_, i) => message(100 + i));
    assert.deepEqual(await Promise.all(burst.map((e) => w1.publish(s, e))), burst.map(() => true));
    for (const e of burst) assert.deepEqual(await events.next(), e);
    assert.equal(await fixture.holderOf(s), 2);
  });

  it('a publish to a session nobody holds resolves false', async () => {
    const s = sessionId();
    assert.equal(await w1.publish(s, message(1)), false);
    assert.equal(await w2.publish(s, message(1)), false);
  });

  it('a subscribe on another worker takes over: the old listener ends, later messages reach only the new one', async () => {
    const s = sessionId();
    const old = await w1.subscribe(s);
    const taker = await w2.subscribe(s);
    assert.deepEqual(await old.events.next(), TAKEOVER);
    assert.equal(await fixture.holderOf(s), 2);
    assert.equal(await w1.publish(s, message(1)), true);
    assert.equal(await w2.publish(s, message(2)), true);
    assert.deepEqual(await taker.events.next(), message(1));
    assert.deepEqual(await taker.events.next(), message(2));
    // The old stream closing late must not detach the one that took over.
    await w1.unsubscribe(s, old.name);
    assert.equal(await w1.hasSubscriber(s), true);
    await w1.flush();
    await w2.flush();
    assert.deepEqual(old.events.events, [TAKEOVER], 'the old listener got something after its end');
    assert.deepEqual(taker.events.events, [message(1), message(2)]);
  });

  it('hasSubscriber sees a subscriber held by the other worker, until it unsubscribes', async () => {
    const s = sessionId();
    assert.equal(await w1.hasSubscriber(s), false);
    await w2.subscribe(s);
    assert.equal(await w1.hasSubscriber(s), true);
    assert.equal(await w2.hasSubscriber(s), true);
    await w2.unsubscribe(s);
    assert.equal(await w1.hasSubscriber(s), false);
    assert.equal(await w1.publish(s, message(1)), false);
  });

  it('an end event from another worker reaches the subscriber and detaches it', async () => {
    const s = sessionId();
    const deleted: SseEvent = { type: 'end', reason: 'session-deleted' };
    const { events } = await w1.subscribe(s);
    assert.equal(await w2.publish(s, deleted), true);
    assert.deepEqual(await events.next(), deleted);
    assert.equal(await w2.hasSubscriber(s), false);
    assert.equal(await w2.publish(s, message(1)), false);
  });

  it('closing a worker’s broker detaches its subscribers cluster-wide', async () => {
    const [s1, s2] = [sessionId(), sessionId()];
    const r1 = await w2.subscribe(s1);
    const r2 = await w2.subscribe(s2);
    await fixture.call(2, 'reopenBroker');
    assert.equal(await w1.hasSubscriber(s1), false);
    assert.equal(await w1.publish(s1, message(1)), false);
    assert.equal(await w1.publish(s2, message(2)), false);
    assert.deepEqual(r1.events.events, []);
    assert.deepEqual(r2.events.events, []);
    // The worker's new broker works as the old one did.
    const { events } = await w2.subscribe(s1);
    assert.equal(await w1.publish(s1, message(3)), true);
    assert.deepEqual(await events.next(), message(3));
  });

  it('a session created on one worker is seen, changed and deleted from the other', async () => {
    const id = sessionId();
    const record = sessionRecord(id);
    assert.equal(await w2.sessions('get', id), undefined);
    await w1.sessions('create', record);
    assert.deepEqual(await w2.sessions('get', id), record);

    await w2.sessions('update', id, { initialized: true, logLevel: 'debug' });
    assert.deepEqual(await w1.sessions('get', id), { ...record, initialized: true, logLevel: 'debug' });
    await w1.sessions('touch', id);
    const touched = (await w2.sessions('get', id)) as SessionRecord;
    assert.ok(touched.lastSeenAt >= record.lastSeenAt);

    const other = sessionId();
    await w2.sessions('create', sessionRecord(other));
    await w1.sessions('subscribeResource', id, 'file:///a');
    await w2.sessions('subscribeResource', other, 'file:///a');
    await w2.sessions('subscribeResource', id, 'file:///b');
    assert.deepEqual(((await w2.sessions('subscribersOf', 'file:///a')) as string[]).sort(), [id, other].sort());
    await w2.sessions('unsubscribeResource', other, 'file:///a');
    assert.deepEqual(await w1.sessions('subscribersOf', 'file:///a'), [id]);

    assert.equal(await w2.sessions('delete', id), true);
    assert.equal(await w1.sessions('get', id), undefined);
    assert.equal(await w1.sessions('delete', id), false);
    assert.deepEqual(await w1.sessions('subscribersOf', 'file:///a'), []);
    assert.deepEqual(await w1.sessions('subscribersOf', 'file:///b'), []);
    assert.equal(await w2.sessions('delete', other), true);
  });

  it('untagged and malformed messages on the channel (pm2’s among them) are ignored by both sides', async () => {
    const s = sessionId();
    const { events } = await w2.subscribe(s);
    await fixture.call(1, 'stray'); // worker 1 → primary
    await fixture.call('primary', 'stray', { worker: 2 }); // primary → worker 2
    await fixture.call('primary', 'stray', { worker: 1 }); // primary → worker 1
    assert.equal(await w1.publish(s, message(1)), true);
    assert.deepEqual(await events.next(), message(1));
    assert.equal(await w2.hasSubscriber(s), true);
    await w1.sessions('create', sessionRecord(s));
    assert.equal(((await w2.sessions('get', s)) as SessionRecord).id, s);
    await w2.flush();
    assert.deepEqual(events.events, [message(1)]);
  });

  // Last: worker 2 does not come back.
  it('a worker that dies loses its subscriptions, and a publish it never acknowledged resolves false', async () => {
    const [kept, fatal] = [sessionId(), sessionId()];
    await w2.subscribe(kept);
    await w2.subscribe(fatal, 'die'); // its listener kills the worker before it can acknowledge
    assert.equal(await w1.hasSubscriber(kept), true);
    const exited = fixture.exited(2);
    assert.equal(await w1.publish(fatal, message(1)), false);
    await exited;
    assert.equal(await w1.hasSubscriber(kept), false);
    assert.equal(await w1.hasSubscriber(fatal), false);
    assert.equal(await w1.publish(kept, message(2)), false);
    assert.equal(await fixture.holderOf(kept), null);
    // The survivor is unaffected.
    const { events } = await w1.subscribe(kept);
    assert.equal(await w1.publish(kept, message(3)), true);
    assert.deepEqual(await events.next(), message(3));
  });
});

brokerContract('ClusterBroker (in-process hub)', async () => {
  const loopback = loopbackCluster();
  const hub = attachClusterHub(loopback.cluster);
  const brokers: [ClusterBroker, ClusterBroker] = [new ClusterBroker({ port: loopback.port() }), new ClusterBroker({ port: loopback.port() })];
  return {
    brokers,
    async cleanup() {
      await Promise.all(brokers.map((broker) => broker.close()));
      await hub.detach();
    },
  };
});

describe('cluster IPC backend without an answering primary', () => {
  /** A channel whose messages go nowhere. */
  function silentPort(connected = true): IpcPort & { disconnect(): void } {
    const events = new EventEmitter();
    let isConnected = connected;
    return {
      get connected() {
        return isConnected;
      },
      send: (_message, callback) => callback(null),
      onMessage: (listener) => (events.on('message', listener), () => events.off('message', listener)),
      onDisconnect: (listener) => (events.on('disconnect', listener), () => events.off('disconnect', listener)),
      disconnect() {
        isConnected = false;
        events.emit('disconnect');
      },
    };
  }

  const code = (expected: string) => (error: unknown) => error instanceof ClusterIpcError && error.code === expected;

  it('a call the primary never answers rejects with a timeout error', async () => {
    const broker = new ClusterBroker({ port: silentPort(), timeoutMs: 30 });
    const sessions = new ClusterSessionStore({ port: silentPort(), timeoutMs: 30 });
    await assert.rejects(broker.publish(sessionId(), message(1)), code('MCP_CLUSTER_IPC_TIMEOUT'));
    await assert.rejects(sessions.get('x'), /primary did not answer "sessions.get" within 30 ms/);
    await sessions.close();
  });

  it('a subscribe that times out leaves no subscriber behind', async () => {
    const broker = new ClusterBroker({ port: silentPort(), timeoutMs: 30 });
    const s = sessionId();
    const r = recorder();
    await assert.rejects(broker.subscribe(s, r.listener), code('MCP_CLUSTER_IPC_TIMEOUT'));
    // A later subscribe does not "take over" from the failed one.
    await assert.rejects(broker.subscribe(s, recorder().listener), code('MCP_CLUSTER_IPC_TIMEOUT'));
    assert.deepEqual(r.events, []);
  });

  it('when the channel to the primary closes, pending and later calls reject at once; close still resolves', async () => {
    const port = silentPort();
    const broker = new ClusterBroker({ port, timeoutMs: 60_000 });
    const pending = broker.hasSubscriber(sessionId());
    port.disconnect();
    await assert.rejects(pending, code('MCP_CLUSTER_IPC_DISCONNECTED'));
    await assert.rejects(broker.publish(sessionId(), message(1)), /IPC channel to the primary is closed/);
    await broker.close();
    await assert.rejects(broker.subscribe(sessionId(), recorder().listener), code('MCP_CLUSTER_IPC_CLOSED'));
  });

  it('outside a node:cluster worker, the backend refuses to start with a clear error', () => {
    assert.throws(() => processPort({} as NodeJS.Process), code('MCP_CLUSTER_IPC_NO_CHANNEL'));
    assert.throws(() => processPort({} as NodeJS.Process), /only runs in a node:cluster worker/);
  });

  it('the hub answers false for a delivery its holder never acknowledged once that worker is gone', async () => {
    const loopback = loopbackCluster();
    const hub = attachClusterHub(loopback.cluster);
    let delivering: () => void = () => {};
    const delivered = new Promise<void>((resolve) => (delivering = resolve));
    const holderPort = loopback.port({ onDeliver: () => delivering() });
    const holder = new ClusterBroker({ port: holderPort });
    const publisher = new ClusterBroker({ port: loopback.port() });
    const s = sessionId();
    await holder.subscribe(s, () => {});
    assert.equal(hub.holderOf(s), holderPort.workerId);
    const publishing = publisher.publish(s, message(1));
    await delivered; // the hub sent it; the holder will never answer
    holderPort.disconnect();
    assert.equal(await publishing, false);
    assert.equal(hub.holderOf(s), undefined);
    assert.equal(await publisher.hasSubscriber(s), false);
    await publisher.close();
    await holder.close();
    await hub.detach();
  });
});
