// Subscription broker for several node:cluster workers without Redis: the primary's hub knows
// which workers listen to each topic and forwards each event to them.

import { IpcClient, type IpcPort, type PushMessage } from '../cluster/ipc.ts';
import { LocalTopics, type SubscriptionBroker, type TopicListener } from './topics.ts';

export interface ClusterSubscriptionBrokerOptions {
  port?: IpcPort;
  timeoutMs?: number;
}

export class ClusterSubscriptionBroker implements SubscriptionBroker {
  readonly #local = new LocalTopics();
  readonly #client: IpcClient;

  constructor(options: ClusterSubscriptionBrokerOptions = {}) {
    this.#client = new IpcClient({ port: options.port, timeoutMs: options.timeoutMs, onPush: (message) => this.#onPush(message) });
  }

  async subscribe(topics: string[], onEvent: TopicListener): Promise<() => Promise<void>> {
    const fresh = this.#local.add(topics, onEvent);
    try {
      // Resolves once the primary registered us: an event published after it reaches us.
      if (fresh.length > 0) await this.#client.request('topics.subscribe', { topics: fresh });
    } catch (error) {
      this.#local.remove(topics, onEvent);
      throw error;
    }
    return async () => {
      const emptied = this.#local.remove(topics, onEvent);
      if (emptied.length > 0) await this.#client.request('topics.unsubscribe', { topics: emptied });
    };
  }

  publish(topic: string, event: unknown): Promise<number> {
    return this.#client.request('topics.publish', { topic, event });
  }

  async close(): Promise<void> {
    const topics = this.#local.topics();
    this.#local.clear();
    try {
      if (topics.length > 0) await this.#client.request('topics.unsubscribe', { topics });
    } catch {
      // Without a primary there is nothing to detach from.
    } finally {
      this.#client.close();
    }
  }

  #onPush(message: PushMessage): void {
    if (message.kind === 'topic') this.#local.deliver(message.topic, message.event);
  }
}
