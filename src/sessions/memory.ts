// One-process session store with idle expiry.

import type { SessionPatch, SessionRecord, SessionStore } from './store.ts';

export interface MemorySessionStoreOptions {
  /** A session unused this long is forgotten. Default 1 hour. */
  idleTimeoutMs?: number;
}

export class MemorySessionStore implements SessionStore {
  readonly #sessions = new Map<string, SessionRecord>();
  readonly #subscriptions = new Map<string, Set<string>>(); // uri -> session ids
  readonly #idleTimeoutMs: number;
  readonly #sweeper: NodeJS.Timeout;

  constructor(options: MemorySessionStoreOptions = {}) {
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 60 * 60 * 1000;
    this.#sweeper = setInterval(() => this.#sweep(), Math.min(this.#idleTimeoutMs, 60_000));
    this.#sweeper.unref();
  }

  async create(record: SessionRecord): Promise<void> {
    this.#sessions.set(record.id, { ...record });
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const record = this.#sessions.get(id);
    if (!record) return undefined;
    // Expired but not yet swept: gone all the same.
    if (record.lastSeenAt < Date.now() - this.#idleTimeoutMs) {
      await this.delete(id);
      return undefined;
    }
    return { ...record };
  }

  async update(id: string, patch: SessionPatch): Promise<void> {
    const record = this.#sessions.get(id);
    if (record) Object.assign(record, patch);
  }

  async touch(id: string): Promise<void> {
    const record = this.#sessions.get(id);
    if (record) record.lastSeenAt = Date.now();
  }

  async delete(id: string): Promise<boolean> {
    for (const [uri, ids] of this.#subscriptions) {
      ids.delete(id);
      if (ids.size === 0) this.#subscriptions.delete(uri);
    }
    return this.#sessions.delete(id);
  }

  async subscribeResource(id: string, uri: string): Promise<void> {
    let ids = this.#subscriptions.get(uri);
    if (!ids) this.#subscriptions.set(uri, (ids = new Set()));
    ids.add(id);
  }

  async unsubscribeResource(id: string, uri: string): Promise<void> {
    const ids = this.#subscriptions.get(uri);
    ids?.delete(id);
    if (ids?.size === 0) this.#subscriptions.delete(uri);
  }

  async subscribersOf(uri: string): Promise<string[]> {
    return [...(this.#subscriptions.get(uri) ?? [])];
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
  }

  #sweep(): void {
    const cutoff = Date.now() - this.#idleTimeoutMs;
    for (const [id, record] of this.#sessions) {
      if (record.lastSeenAt < cutoff) void this.delete(id);
    }
  }
}
