// One-process subscription broker.

import { LocalTopics, type SubscriptionBroker, type TopicListener } from './topics.ts';

export class MemorySubscriptionBroker implements SubscriptionBroker {
  readonly #local = new LocalTopics();

  async subscribe(topics: string[], onEvent: TopicListener): Promise<() => Promise<void>> {
    this.#local.add(topics, onEvent);
    return async () => {
      this.#local.remove(topics, onEvent);
    };
  }

  async publish(topic: string, event: unknown): Promise<number> {
    return this.#local.deliver(topic, event);
  }

  async close(): Promise<void> {
    this.#local.clear();
  }
}
