// The SseBroker contract, written once and run against every broker (broker.test.ts). A broker
// is done when this suite passes.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { BusMessage, SseBroker, SseEvent, SseEventListener } from '../../src/broker/broker.ts';

export interface BrokerPair {
  /** Two brokers over one backend, as two processes would hold them (memory: one instance twice). */
  brokers: [SseBroker, SseBroker];
  cleanup(): Promise<void>;
}

export type BrokerFactory = () => Promise<BrokerPair>;

const EVENT_TIMEOUT_MS = 2_000;

export function message(n: number, id?: string): SseEvent {
  const event: SseEvent = { type: 'message', message: { jsonrpc: '2.0', method: 'notifications/message', params: { n } } };
  if (id !== undefined) event.id = id;
  return event;
}

export function sessionId(): string {
  return `session-${randomUUID()}`;
}

/** A listener that records what it receives and lets a test await the next event. */
export interface Recorder {
  listener: SseEventListener;
  events: SseEvent[];
  /** Resolves with the next event not yet awaited, or fails after a deadline. */
  next(): Promise<SseEvent>;
}

export function recorder(): Recorder {
  const events: SseEvent[] = [];
  let awaited = 0;
  let wake: (() => void) | undefined;
  return {
    events,
    listener: (event) => {
      events.push(event);
      wake?.();
    },
    async next() {
      const index = awaited++;
      const deadline = Date.now() + EVENT_TIMEOUT_MS;
      while (events.length <= index) {
        const remaining = deadline - Date.now();
        if (remaining <= 0) throw new Error(`no event #${index} within ${EVENT_TIMEOUT_MS} ms (got ${JSON.stringify(events)})`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, remaining);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
      return events[index] as SseEvent;
    },
  };
}

/**
 * Resolves once `broker` has processed everything published before the call: a probe published
 * after them travels the same path (one subscriber connection, in order), so when the probe
 * arrives, anything that was going to arrive has. Lets a test assert that something did NOT
 * happen without sleeping.
 */
export async function flush(broker: SseBroker): Promise<void> {
  const probe = sessionId();
  const seen = recorder();
  await broker.subscribe(probe, seen.listener);
  assert.equal(await broker.publish(probe, message(-1)), true, 'probe not delivered');
  await seen.next();
  await broker.unsubscribe(probe);
}

/** Polls `check` until it holds; for state that settles asynchronously by design. */
export async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const TAKEOVER: SseEvent = { type: 'end', reason: 'takeover' };

export function brokerContract(name: string, factory: BrokerFactory): void {
  describe(`SseBroker contract: ${name}`, () => {
    let a: SseBroker;
    let b: SseBroker;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ brokers: [a, b], cleanup } = await factory());
    });
    afterEach(async () => {
      await cleanup();
    });

    it('publish to a session nobody holds resolves false', async () => {
      const s = sessionId();
      assert.equal(await a.publish(s, message(1)), false);
      assert.equal(await b.publish(s, message(1)), false);
      assert.equal(await a.hasSubscriber(s), false);
      assert.equal(await b.hasSubscriber(s), false);
    });

    it('a subscriber receives what any broker publishes, in order, and publish resolves true', async () => {
      const s = sessionId();
      const r = recorder();
      await a.subscribe(s, r.listener);
      assert.equal(await b.publish(s, message(1, 'stream-1/1')), true);
      assert.deepEqual(await r.next(), message(1, 'stream-1/1'));
      assert.equal(await a.publish(s, message(2)), true);
      assert.deepEqual(await r.next(), message(2));
      const burst = Array.from({ length: 20 }, (_, i) => message(100 + i));
      assert.deepEqual(await Promise.all(burst.map((e) => b.publish(s, e))), burst.map(() => true));
      for (const e of burst) assert.deepEqual(await r.next(), e);
    });

    it('a publish issued right after subscribe resolves is delivered', async () => {
      // A notify right after a GET stream opens must not be lost: no retry, no wait.
      for (let i = 0; i < 5; i++) {
        const s = sessionId();
        const r = recorder();
        await a.subscribe(s, r.listener);
        assert.equal(await b.publish(s, message(i)), true, `publish #${i} right after subscribe reached nobody`);
        assert.deepEqual(await r.next(), message(i));
      }
    });

    it('a subscribe on another broker takes over: the old listener ends, later messages reach only the new one', async () => {
      const s = sessionId();
      const old = recorder();
      const taker = recorder();
      await a.subscribe(s, old.listener);
      await b.subscribe(s, taker.listener);
      assert.deepEqual(await old.next(), TAKEOVER);
      assert.equal(await a.publish(s, message(1)), true);
      assert.equal(await b.publish(s, message(2)), true);
      assert.deepEqual(await taker.next(), message(1));
      assert.deepEqual(await taker.next(), message(2));
      await flush(a);
      await flush(b);
      assert.deepEqual(old.events, [TAKEOVER], 'the old listener got something after its end');
      assert.deepEqual(taker.events, [message(1), message(2)]);
    });

    it('a second subscribe on the same broker ends the first listener once; the new one survives its own takeover', async () => {
      const s = sessionId();
      const first = recorder();
      const second = recorder();
      const third = recorder();
      await a.subscribe(s, first.listener);
      // Concurrent: the takeover of `second` is still in flight when `third` replaces it.
      await Promise.all([a.subscribe(s, second.listener), a.subscribe(s, third.listener)]);
      assert.equal(await b.publish(s, message(1)), true);
      assert.deepEqual(await third.next(), message(1));
      await flush(a);
      assert.deepEqual(first.events, [TAKEOVER]);
      assert.deepEqual(second.events, [TAKEOVER]);
      assert.deepEqual(third.events, [message(1)]);
    });

    it('unsubscribe with a stale listener does not detach the one that took over', async () => {
      const s = sessionId();
      const first = recorder();
      const second = recorder();
      const third = recorder();
      await a.subscribe(s, first.listener);
      await a.subscribe(s, second.listener);
      await a.unsubscribe(s, first.listener); // the first stream closing late
      assert.equal(await b.publish(s, message(1)), true);
      assert.deepEqual(await second.next(), message(1));

      await b.subscribe(s, third.listener);
      assert.deepEqual(await second.next(), TAKEOVER);
      await a.unsubscribe(s, second.listener);
      await b.unsubscribe(s, second.listener);
      assert.equal(await a.publish(s, message(2)), true);
      assert.deepEqual(await third.next(), message(2));
      assert.equal(await a.hasSubscriber(s), true);
    });

    it('unsubscribe without a listener detaches the subscriber, silently', async () => {
      const s = sessionId();
      const r = recorder();
      await a.subscribe(s, r.listener);
      await a.unsubscribe(s);
      assert.equal(await a.hasSubscriber(s), false);
      assert.equal(await b.hasSubscriber(s), false);
      assert.equal(await b.publish(s, message(1)), false);
      await a.unsubscribe(s); // twice is fine
      assert.deepEqual(r.events, []);
    });

    it('hasSubscriber sees a subscriber held by another broker', async () => {
      const s = sessionId();
      await a.subscribe(s, recorder().listener);
      assert.equal(await b.hasSubscriber(s), true);
      assert.equal(await a.hasSubscriber(s), true);
      assert.equal(await b.hasSubscriber(sessionId()), false);
    });

    it('an end event reaches the subscriber and detaches it', async () => {
      const s = sessionId();
      const r = recorder();
      const deleted: SseEvent = { type: 'end', reason: 'session-deleted' };
      await a.subscribe(s, r.listener);
      assert.equal(await b.publish(s, deleted), true);
      assert.deepEqual(await r.next(), deleted);
      // Detaching happens where the subscriber lives; another process sees it settle.
      await eventually(async () => !(await b.hasSubscriber(s)), 'the ended subscriber is gone');
      assert.equal(await b.publish(s, message(1)), false);
      await flush(a);
      assert.deepEqual(r.events, [deleted]);
    });

    it('close detaches every subscriber of the broker', async () => {
      const [s1, s2] = [sessionId(), sessionId()];
      const [r1, r2] = [recorder(), recorder()];
      await a.subscribe(s1, r1.listener);
      await a.subscribe(s2, r2.listener);
      await a.close();
      assert.equal(await b.publish(s1, message(1)), false);
      assert.equal(await b.publish(s2, message(2)), false);
      assert.equal(await b.hasSubscriber(s1), false);
      assert.deepEqual(r1.events, []);
      assert.deepEqual(r2.events, []);
    });

    it('broadcast reaches the bus listener of every broker, the sender included, once each: every kind of bus message', async () => {
      const onA: BusMessage[] = [];
      const onB: BusMessage[] = [];
      await a.onBroadcast((m) => onA.push(m));
      await b.onBroadcast((m) => onB.push(m));
      const sent: BusMessage[] = [
        { type: 'cancel', sessionId: sessionId(), requestId: 7, reason: 'test' },
        { type: 'notify-sessions', message: { jsonrpc: '2.0', method: 'notifications/tools/list_changed' } },
        { type: 'session-changed', sessionId: sessionId() },
        { type: 'task-changed', taskId: 'task-1' },
      ];
      // From both brokers in turn, in order.
      for (const [index, message] of sent.entries()) await (index % 2 === 0 ? a : b).broadcast(message);
      await eventually(async () => onA.length === sent.length && onB.length === sent.length, 'both bus listeners got every message');
      assert.deepEqual(onA, sent);
      assert.deepEqual(onB, sent);
    });
  });
}
