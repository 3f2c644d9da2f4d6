// A custom SSE broker: the contract of src/broker/broker.ts implemented over any pub/sub bus
// with channels (NATS, Postgres LISTEN/NOTIFY, a cloud pub/sub...). Replace InProcessPubSub with
// a client of yours; the broker logic stays. A broker is done when the shared contract suite
// passes: test/operability/examples.test.ts runs it against this one.
//
//   const bus = new InProcessPubSub();                       // your bus client
//   const server = createMcpServer({ name: 'app', version: '1.0.0', broker: new PubSubBroker(bus) });

import { randomUUID } from 'node:crypto';
import type { BusListener, BusMessage, SseBroker, SseEvent, SseEventListener } from 'mcp-cluster';

/** What the broker needs from a bus. */
export interface PubSub {
  /** Sends `payload` to the channel's current subscribers; resolves to how many there were. */
  publish(channel: string, payload: string): Promise<number>;
  /** Resolves once the subscription is live; resolves to what ends it. */
  subscribe(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>>;
  /** Subscribers of the channel, in every process. */
  subscribers(channel: string): Promise<number>;
}

/** What travels on a session's channel: an event for its stream, or "I take this session over". */
type Wire = { type: 'event'; event: SseEvent } | { type: 'takeover'; origin: string };

interface Subscription {
  listener: SseEventListener;
}

const TAKEOVER: SseEvent = { type: 'end', reason: 'takeover' };
const BUS_CHANNEL = 'bus';

export class PubSubBroker implements SseBroker {
  readonly #bus: PubSub;
  /** Tells this broker's own takeover messages apart from other processes'. */
  readonly #origin = randomUUID();
  /** This process's one subscriber of each session. */
  readonly #subscriptions = new Map<string, Subscription>();
  /** The live channel subscription of each session held here (it outlives local replacements). */
  readonly #channels = new Map<string, Promise<() => Promise<void>>>();
  #stopBus: (() => Promise<void>) | undefined;

  constructor(bus: PubSub) {
    this.#bus = bus;
  }

  async subscribe(sessionId: string, onEvent: SseEventListener): Promise<void> {
    const mine: Subscription = { listener: onEvent };
    const previous = this.#subscriptions.get(sessionId);
    // Rule 1: one subscriber per session. The new one is in place before the old one ends, so
    // that a publish from the old stream's end handler already reaches the new one.
    this.#subscriptions.set(sessionId, mine);
    previous?.listener(TAKEOVER);
    // Rule 2: a subscriber elsewhere ends too. Say so before listening, so that from now on a
    // message reaches one stream, never two.
    await this.#bus.publish(sessionId, encode({ type: 'takeover', origin: this.#origin }));
    // Replaced or unsubscribed meanwhile: whoever did that owns the channel now.
    if (this.#subscriptions.get(sessionId) !== mine) return;
    // Rule 3: resolve only once live: a publish issued right after this resolves is delivered.
    let channel = this.#channels.get(sessionId);
    if (!channel) {
      channel = this.#bus.subscribe(sessionId, (payload) => this.#onMessage(sessionId, payload));
      this.#channels.set(sessionId, channel);
    }
    await channel;
  }

  async unsubscribe(sessionId: string, listener?: SseEventListener): Promise<void> {
    const current = this.#subscriptions.get(sessionId);
    // Rule 4: a stream closing late must not detach the stream that took over.
    if (!current || (listener && current.listener !== listener)) return;
    await this.#detach(sessionId);
  }

  async publish(sessionId: string, event: SseEvent): Promise<boolean> {
    // Rule 5: true only when a subscriber was there to receive it.
    return (await this.#bus.publish(sessionId, encode({ type: 'event', event }))) > 0;
  }

  async hasSubscriber(sessionId: string): Promise<boolean> {
    return (await this.#bus.subscribers(sessionId)) > 0;
  }

  async broadcast(message: BusMessage): Promise<void> {
    await this.#bus.publish(BUS_CHANNEL, JSON.stringify(message));
  }

  async onBroadcast(listener: BusListener): Promise<void> {
    await this.#stopBus?.();
    this.#stopBus = await this.#bus.subscribe(BUS_CHANNEL, (payload) => listener(JSON.parse(payload) as BusMessage));
  }

  async close(): Promise<void> {
    // Rule 6: detach everything of this process; a connection it was given is not its to close.
    await Promise.all([...this.#channels.keys()].map((sessionId) => this.#detach(sessionId)));
    await this.#stopBus?.();
    this.#stopBus = undefined;
  }

  #onMessage(sessionId: string, payload: string): void {
    const current = this.#subscriptions.get(sessionId);
    if (!current) return; // detached while the message was on its way: dropped
    const wire = JSON.parse(payload) as Wire;
    if (wire.type === 'takeover') {
      if (wire.origin === this.#origin) return; // our own; local replacements ended in subscribe()
      void this.#detach(sessionId);
      current.listener(TAKEOVER);
      return;
    }
    // Rule 7: an end event (session deleted) detaches the subscriber it reaches.
    if (wire.event.type === 'end') void this.#detach(sessionId);
    current.listener(wire.event);
  }

  async #detach(sessionId: string): Promise<void> {
    this.#subscriptions.delete(sessionId);
    const channel = this.#channels.get(sessionId);
    this.#channels.delete(sessionId);
    if (channel) await (await channel)();
  }
}

function encode(wire: Wire): string {
  return JSON.stringify(wire);
}

/**
 * A bus inside one process, standing in for a real one: every PubSubBroker given the same
 * instance behaves like a process of one cluster. Messages arrive asynchronously and in order.
 */
export class InProcessPubSub implements PubSub {
  readonly #channels = new Map<string, Set<(payload: string) => void>>();

  async publish(channel: string, payload: string): Promise<number> {
    const handlers = [...(this.#channels.get(channel) ?? [])];
    for (const handler of handlers) queueMicrotask(() => handler(payload));
    return handlers.length;
  }

  async subscribe(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>> {
    // A fresh function per subscription, so the same handler can subscribe twice.
    const handler = (payload: string) => onMessage(payload);
    let handlers = this.#channels.get(channel);
    if (!handlers) this.#channels.set(channel, (handlers = new Set()));
    handlers.add(handler);
    return async () => {
      handlers.delete(handler);
      if (handlers.size === 0 && this.#channels.get(channel) === handlers) this.#channels.delete(channel);
    };
  }

  async subscribers(channel: string): Promise<number> {
    return this.#channels.get(channel)?.size ?? 0;
  }
}
