// A per-worker cache in front of a shared session store (Redis): most POSTs then need no round
// trip to learn their session, and idle-expiry refreshes are sent at most once per interval.
// A change made through any worker invalidates every worker's copy through the cluster bus; the
// cache's short TTL bounds staleness should such a message be lost.

import type { SessionPatch, SessionRecord, SessionStore } from './store.ts';

export interface CachedSessionStoreOptions {
  /** A cached record is trusted this long. Default 5 s. */
  ttlMs?: number;
  /** Refresh a session's idle expiry at most this often. Default 30 s. */
  touchEveryMs?: number;
  /** Most records kept (oldest dropped first). Default 100,000. */
  maxEntries?: number;
}

interface Entry {
  record: SessionRecord;
  expiresAt: number;
}

export class CachedSessionStore implements SessionStore {
  readonly #inner: SessionStore;
  readonly #ttlMs: number;
  readonly #touchEveryMs: number;
  readonly #maxEntries: number;
  readonly #cache = new Map<string, Entry>();
  readonly #touched = new Map<string, number>();
  #onChange: (id: string) => Promise<void> = async () => undefined;

  constructor(inner: SessionStore, options: CachedSessionStoreOptions = {}) {
    this.#inner = inner;
    this.#ttlMs = options.ttlMs ?? 5_000;
    this.#touchEveryMs = options.touchEveryMs ?? 30_000;
    this.#maxEntries = options.maxEntries ?? 100_000;
  }

  /** How changes are announced to the other workers (the server wires its cluster bus here). */
  announceChangesWith(announce: (id: string) => Promise<void>): void {
    this.#onChange = announce;
  }

  /** Another worker changed or deleted the session: forget our copy. */
  invalidate(id: string): void {
    this.#cache.delete(id);
  }

  async create(record: SessionRecord): Promise<void> {
    // Not cached yet: the session's next request may land anywhere, and fetches it once there.
    await this.#inner.create(record);
    this.#cache.delete(record.id);
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const entry = this.#cache.get(id);
    if (entry && entry.expiresAt > Date.now()) return { ...entry.record };
    const record = await this.#inner.get(id);
    if (record) this.#remember(record);
    else this.#cache.delete(id);
    return record;
  }

  async update(id: string, patch: SessionPatch): Promise<void> {
    await this.#inner.update(id, patch);
    this.#cache.delete(id);
    await this.#onChange(id);
  }

  async touch(id: string): Promise<void> {
    const now = Date.now();
    if ((this.#touched.get(id) ?? 0) > now - this.#touchEveryMs) return;
    this.#touched.set(id, now);
    if (this.#touched.size > this.#maxEntries) this.#touched.delete(this.#touched.keys().next().value!);
    await this.#inner.touch(id);
  }

  async delete(id: string): Promise<boolean> {
    const existed = await this.#inner.delete(id);
    this.#cache.delete(id);
    this.#touched.delete(id);
    await this.#onChange(id);
    return existed;
  }

  subscribeResource(id: string, uri: string): Promise<void> {
    return this.#inner.subscribeResource(id, uri);
  }

  unsubscribeResource(id: string, uri: string): Promise<void> {
    return this.#inner.unsubscribeResource(id, uri);
  }

  subscribersOf(uri: string): Promise<string[]> {
    return this.#inner.subscribersOf(uri);
  }

  async close(): Promise<void> {
    this.#cache.clear();
    this.#touched.clear();
    await this.#inner.close();
  }

  #remember(record: SessionRecord): void {
    this.#cache.delete(record.id);
    this.#cache.set(record.id, { record: { ...record }, expiresAt: Date.now() + this.#ttlMs });
    if (this.#cache.size > this.#maxEntries) this.#cache.delete(this.#cache.keys().next().value!);
  }
}
