// Subscription broker over Redis pub/sub: a channel per topic, `<prefix>:topic:<topic>`, that a
// process subscribes while it has local listeners of it; one PUBLISH per event.

import type { Redis } from 'ioredis';
import { LocalTopics, type SubscriptionBroker, type TopicListener } from './topics.ts';

export interface RedisSubscriptionBrokerOptions {
  /** Normal-mode connection for PUBLISH. Borrowed. */
  publisher: Redis;
  /** Subscriber-mode connection; may be shared with a RedisBroker. Borrowed. */
  subscriber: Redis;
  channelPrefix?: string;
}

export class RedisSubscriptionBroker implements SubscriptionBroker {
  readonly #publisher: Redis;
  readonly #subscriber: Redis;
  readonly #prefix: string;
  readonly #local = new LocalTopics();
  #closed = false;

  constructor(options: RedisSubscriptionBrokerOptions) {
    this.#publisher = options.publisher;
    this.#subscriber = options.subscriber;
    this.#prefix = `${options.channelPrefix ?? 'mcp'}:topic:`;
    this.#subscriber.on('message', this.#onMessage);
  }

  async subscribe(topics: string[], onEvent: TopicListener): Promise<() => Promise<void>> {
    if (this.#closed) throw new Error('RedisSubscriptionBroker is closed');
    const fresh = this.#local.add(topics, onEvent);
    try {
      // Resolves on Redis's reply: from then on a PUBLISH from anywhere reaches us.
      if (fresh.length > 0) await this.#subscriber.subscribe(...fresh.map((topic) => this.#prefix + topic));
    } catch (error) {
      this.#local.remove(topics, onEvent);
      throw error;
    }
    return async () => {
      const emptied = this.#local.remove(topics, onEvent);
      if (emptied.length > 0 && this.#subscriber.status !== 'end') {
        await this.#subscriber.unsubscribe(...emptied.map((topic) => this.#prefix + topic));
      }
    };
  }

  async publish(topic: string, event: unknown): Promise<number> {
    return this.#publisher.publish(this.#prefix + topic, JSON.stringify({ event }));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#subscriber.off('message', this.#onMessage);
    const channels = this.#local.topics().map((topic) => this.#prefix + topic);
    this.#local.clear();
    if (channels.length > 0 && this.#subscriber.status !== 'end') await this.#subscriber.unsubscribe(...channels);
  }

  readonly #onMessage = (channel: string, raw: string): void => {
    if (!channel.startsWith(this.#prefix)) return;
    let payload: { event?: unknown };
    try {
      payload = JSON.parse(raw) as { event?: unknown };
    } catch {
      return;
    }
    this.#local.deliver(channel.slice(this.#prefix.length), payload.event);
  };
}
