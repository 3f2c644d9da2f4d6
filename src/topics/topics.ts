// The subscription broker contract (2026-07-28 era): `subscriptions/listen` streams listen to
// topics (a list_changed kind, or one resource's updates), and an event published on a topic
// anywhere in the cluster reaches every listener of it once. Implementations: memory.ts,
// redis.ts (one PUBLISH per event), cluster.ts (through the primary).

export type TopicListener = (topic: string, event: unknown) => void;

export interface SubscriptionBroker {
  /** Listens to `topics`; resolves once the subscription is live, with a function that ends it. */
  subscribe(topics: string[], onEvent: TopicListener): Promise<() => Promise<void>>;
  /**
   * Delivers `event` to every listener of `topic`. Resolves to how many were reached: listeners
   * in one process; processes holding listeners when they live elsewhere (Redis, cluster).
   */
  publish(topic: string, event: unknown): Promise<number>;
  /** Ends every subscription of this process; never closes a connection it was given. */
  close(): Promise<void>;
}

export const TOPICS = {
  toolsListChanged: 'tools/list_changed',
  promptsListChanged: 'prompts/list_changed',
  resourcesListChanged: 'resources/list_changed',
  resourceUpdated: (uri: string) => `resources/updated:${uri}`,
} as const;

/**
 * The process-local half every implementation shares: listeners by topic, and a hook that runs
 * when a topic gains its first local listener or loses its last (to subscribe remotely).
 */
export class LocalTopics {
  readonly #listeners = new Map<string, Set<TopicListener>>();

  /** Adds the listener; returns the topics that had no local listener before. */
  add(topics: string[], listener: TopicListener): string[] {
    const fresh: string[] = [];
    for (const topic of new Set(topics)) {
      let set = this.#listeners.get(topic);
      if (!set) {
        this.#listeners.set(topic, (set = new Set()));
        fresh.push(topic);
      }
      set.add(listener);
    }
    return fresh;
  }

  /** Removes the listener; returns the topics left with no local listener. */
  remove(topics: string[], listener: TopicListener): string[] {
    const emptied: string[] = [];
    for (const topic of new Set(topics)) {
      const set = this.#listeners.get(topic);
      if (!set?.delete(listener)) continue;
      if (set.size === 0) {
        this.#listeners.delete(topic);
        emptied.push(topic);
      }
    }
    return emptied;
  }

  /** Runs every local listener of the topic; returns how many. */
  deliver(topic: string, event: unknown): number {
    const set = this.#listeners.get(topic);
    if (!set) return 0;
    for (const listener of [...set]) {
      try {
        listener(topic, event);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
    return set.size;
  }

  topics(): string[] {
    return [...this.#listeners.keys()];
  }

  clear(): void {
    this.#listeners.clear();
  }
}
