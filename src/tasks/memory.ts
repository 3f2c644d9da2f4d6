// Tasks of one process. Expired tasks are dropped when read and by a sweep.

import type { TaskRecord, TaskStore } from './store.ts';

interface Entry {
  record: TaskRecord;
  expiresAt: number;
}

export class MemoryTaskStore implements TaskStore {
  readonly #tasks = new Map<string, Entry>();
  readonly #sweep: NodeJS.Timeout;

  constructor(options: { sweepMs?: number } = {}) {
    this.#sweep = setInterval(() => {
      const now = Date.now();
      for (const [id, entry] of this.#tasks) if (entry.expiresAt <= now) this.#tasks.delete(id);
    }, options.sweepMs ?? 60_000);
    this.#sweep.unref();
  }

  async create(record: TaskRecord): Promise<void> {
    this.#tasks.set(record.taskId, { record: structuredClone(record), expiresAt: Date.now() + record.ttlMs });
  }

  async get(taskId: string): Promise<TaskRecord | undefined> {
    return this.getNow(taskId);
  }

  /** Synchronous, for the primary's hub, which serves workers in arrival order. */
  getNow(taskId: string): TaskRecord | undefined {
    const entry = this.#tasks.get(taskId);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.#tasks.delete(taskId);
      return undefined;
    }
    return structuredClone(entry.record);
  }

  async compareAndSet(taskId: string, expectedVersion: number, record: TaskRecord): Promise<boolean> {
    return this.compareAndSetNow(taskId, expectedVersion, record);
  }

  compareAndSetNow(taskId: string, expectedVersion: number, record: TaskRecord): boolean {
    const entry = this.#tasks.get(taskId);
    if (!entry || entry.expiresAt <= Date.now() || entry.record.version !== expectedVersion) return false;
    entry.record = structuredClone(record);
    return true;
  }

  async close(): Promise<void> {
    clearInterval(this.#sweep);
    this.#tasks.clear();
  }
}
