// Many-process broker over Redis pub/sub: one channel per session, `<prefix>:sse:<sessionId>`, and
// one subscriber connection per process shared by every session it holds. Any process (or a job
// runner with only a Redis URL) reaches a session with one PUBLISH on that channel.

import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { BusListener, BusMessage, SseBroker, SseEvent, SseEventListener } from './broker.ts';
import { deliverSafely } from './deliver.ts';
import { busChannel, decode, encode, sessionChannelPrefix } from './redis-wire.ts';

export interface RedisBrokerOptions {
  /** Normal-mode connection for PUBLISH and PUBSUB NUMSUB. Borrowed: never closed here. */
  publisher: Redis;
  /**
   * Connection in subscriber mode (it cannot publish). Borrowed: never closed here. Brokers with
   * different prefixes may share it; two brokers with the same prefix must not.
   */
  subscriber: Redis;
  /** Keeps deployments that share a Redis apart (staging vs prod). Default `mcp`. */
  channelPrefix?: string;
}

interface Subscription {
  listener: SseEventListener;
  /** Unique per subscribe call: tells "still mine" apart even for the same listener function. */
  token: string;
  /** SUBSCRIBE was sent for it, so it must be resubscribed after a reconnect. */
  live: boolean;
}

export class RedisBroker implements SseBroker {
  readonly #publisher: Redis;
  readonly #subscriber: Redis;
  readonly #channelPrefix: string;
  /** Identifies this broker on the wire; every subscription token it issues shares it. */
  readonly #origin = randomUUID();
  /** This process's subscriber of each session. */
  readonly #subscriptions = new Map<string, Subscription>();
  readonly #busChannel: string;
  readonly #bus = new Set<BusListener>();
  #closed = false;

  constructor(options: RedisBrokerOptions) {
    this.#publisher = options.publisher;
    this.#subscriber = options.subscriber;
    this.#channelPrefix = sessionChannelPrefix(options.channelPrefix);
    this.#busChannel = busChannel(options.channelPrefix);
    this.#subscriber.on('message', this.#onMessage);
    this.#subscriber.on('ready', this.#onReady);
  }

  /** The Redis channel of a session. */
  channel(sessionId: string): string {
    return this.#channelPrefix + sessionId;
  }

  async subscribe(sessionId: string, onEvent: SseEventListener): Promise<void> {
    if (this.#closed) throw new Error('RedisBroker is closed');
    const channel = this.channel(sessionId);
    const mine: Subscription = { listener: onEvent, token: randomUUID(), live: false };
    const previous = this.#subscriptions.get(sessionId);
    // Same order as MemoryBroker: the new listener is in place before the old one hears its end.
    this.#subscriptions.set(sessionId, mine);
    previous?.listener({ type: 'end', reason: 'takeover' });
    try {
      // Takeover before SUBSCRIBE: from here until our SUBSCRIBE lands a publish reaches nobody
      // (and says so: false), rather than reaching the old stream and the new one.
      await this.#publisher.publish(channel, encode({ type: 'takeover', origin: this.#origin, token: mine.token }));
      // Replaced or unsubscribed while we waited: whoever did that owns the channel state now.
      if (this.#subscriptions.get(sessionId) !== mine) return;
      mine.live = true;
      // Resolves on Redis's subscribe reply: from then on a PUBLISH from anywhere reaches us.
      await this.#subscriber.subscribe(channel);
    } catch (error) {
      if (this.#subscriptions.get(sessionId) === mine) this.#subscriptions.delete(sessionId);
      throw error;
    }
  }

  async unsubscribe(sessionId: string, listener?: SseEventListener): Promise<void> {
    const current = this.#subscriptions.get(sessionId);
    // A stream closing late must not detach the one that took over.
    if (!current || (listener && current.listener !== listener)) return;
    this.#subscriptions.delete(sessionId);
    await this.#unsubscribeChannels([this.channel(sessionId)]);
  }

  async publish(sessionId: string, event: SseEvent): Promise<boolean> {
    // Exactly one PUBLISH: its receiver count is the answer. A process that was just detached may
    // still count until its UNSUBSCRIBE lands; it drops the message.
    const receivers = await this.#publisher.publish(
      this.channel(sessionId),
      encode({ type: 'event', origin: this.#origin, event }),
    );
    return receivers > 0;
  }

  async hasSubscriber(sessionId: string): Promise<boolean> {
    // NUMSUB counts subscriber connections of every process: cluster-wide by construction.
    const reply = (await this.#publisher.pubsub('NUMSUB', this.channel(sessionId))) as unknown[];
    return Number(reply[1]) > 0;
  }

  async broadcast(message: BusMessage): Promise<void> {
    await this.#publisher.publish(this.#busChannel, encode({ type: 'bus', origin: this.#origin, message }));
  }

  async onBroadcast(listener: BusListener): Promise<void> {
    if (this.#closed) throw new Error('RedisBroker is closed');
    const first = this.#bus.size === 0;
    this.#bus.add(listener);
    if (first) await this.#subscriber.subscribe(this.#busChannel);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#subscriber.off('message', this.#onMessage);
    this.#subscriber.off('ready', this.#onReady);
    const channels = [...this.#subscriptions.keys()].map((id) => this.channel(id));
    if (this.#bus.size > 0) channels.push(this.#busChannel);
    this.#bus.clear();
    this.#subscriptions.clear();
    if (channels.length > 0) await this.#unsubscribeChannels(channels);
  }

  /** Routes every message of the shared subscriber connection to the session it is for. */
  readonly #onMessage = (channel: string, raw: string): void => {
    if (channel === this.#busChannel) {
      const message = decode(raw);
      if (message?.type === 'bus') for (const listener of this.#bus) deliverSafely(listener, message.message);
      return;
    }
    if (!channel.startsWith(this.#channelPrefix)) return; // another broker's channel
    const sessionId = channel.slice(this.#channelPrefix.length);
    const current = this.#subscriptions.get(sessionId);
    // Not ours, or detached while its UNSUBSCRIBE is in flight: the message is dropped.
    if (!current) return;
    const message = decode(raw);
    if (!message || message.type === 'bus') return;
    if (message.type === 'takeover') {
      // Our own takeover echo. Tokens alone would not do: the echo of a subscribe that a later
      // local subscribe already replaced would end the replacement. Local replacements are
      // ended synchronously in subscribe().
      if (message.origin === this.#origin) return;
      this.#detach(sessionId);
      deliverSafely(current.listener, { type: 'end', reason: 'takeover' });
      return;
    }
    // An end event detaches the listener: it is no longer the session's subscriber.
    if (message.event.type === 'end') this.#detach(sessionId);
    deliverSafely(current.listener, message.event);
  };

  /**
   * After a reconnect: ioredis resubscribes by itself when `autoResubscribe` is on (the default),
   * but not when it is off, and not a SUBSCRIBE that never got its reply. Subscribing again is
   * idempotent in Redis, so do it for every live subscription regardless.
   */
  readonly #onReady = (): void => {
    const channels = [...this.#subscriptions].filter(([, s]) => s.live).map(([id]) => this.channel(id));
    if (this.#bus.size > 0) channels.push(this.#busChannel);
    if (channels.length === 0) return;
    // A failure here surfaces as the connection's own error/reconnect; the next 'ready' retries.
    this.#subscriber.subscribe(...channels).catch(() => {});
  };

  #detach(sessionId: string): void {
    this.#subscriptions.delete(sessionId);
    // Sent before the listener runs, so a subscribe from its end handler lands after it. A failure
    // leaves at worst a channel whose messages are dropped on arrival.
    this.#unsubscribeChannels([this.channel(sessionId)]).catch(() => {});
  }

  async #unsubscribeChannels(channels: string[]): Promise<void> {
    // The connection belongs to the caller; once they ended it, its subscriptions went with it.
    if (this.#subscriber.status === 'end') return;
    await this.#subscriber.unsubscribe(...channels);
  }
}
