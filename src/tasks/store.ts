// The tasks extension's store (io.modelcontextprotocol/tasks, 2026-07-28): where a task's status,
// pending questions, answers and outcome live, so that any worker can answer tasks/get,
// tasks/update and tasks/cancel for a task another worker runs. Implementations: memory.ts (one
// process), redis.ts (many processes and hosts), cluster.ts (node:cluster IPC through the primary).
//
// The contract is three operations; every change goes through compare-and-set on `version`, so
// the worker running a task and the workers answering its client never overwrite each other.

export type TaskStatus = 'working' | 'input_required' | 'completed' | 'failed' | 'cancelled';

export interface TaskInputRequest {
  method: string;
  params?: Record<string, unknown>;
}

export interface TaskRecord {
  taskId: string;
  status: TaskStatus;
  /** ISO 8601. */
  createdAt: string;
  lastUpdatedAt: string;
  /** How long the task stays readable after it was created. */
  ttlMs: number;
  pollIntervalMs: number;
  statusMessage?: string;
  /** Questions the client has not answered yet (status input_required). */
  inputRequests?: Record<string, TaskInputRequest>;
  /** Answers received and not yet taken by the running handler, by key. */
  answers?: Record<string, unknown>;
  /** status completed: the tool's result (tool errors included, as `isError: true`). */
  result?: Record<string, unknown>;
  /** status failed: the protocol error that ended it. */
  error?: { code: number; message: string; data?: unknown };
  /** Bumped by every change (compare-and-set). */
  version: number;
}

export interface TaskStore {
  /** Stores a new task, readable by every worker once this resolves; it expires after ttlMs. */
  create(record: TaskRecord): Promise<void>;
  get(taskId: string): Promise<TaskRecord | undefined>;
  /**
   * Replaces the task when its stored version is still `expectedVersion` (the new record carries
   * the next one); false when it changed meanwhile or is gone. Keeps the expiry set at creation.
   */
  compareAndSet(taskId: string, expectedVersion: number, record: TaskRecord): Promise<boolean>;
  close(): Promise<void>;
}

export const TERMINAL_STATUSES: ReadonlySet<TaskStatus> = new Set(['completed', 'failed', 'cancelled']);

/**
 * Applies `change` to the current record until it lands (another writer may win a round); the
 * change returns undefined to leave the task as it is. Resolves to the stored record.
 */
export async function updateTask(
  store: TaskStore,
  taskId: string,
  change: (current: TaskRecord) => TaskRecord | undefined,
): Promise<TaskRecord | undefined> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const current = await store.get(taskId);
    if (!current) return undefined;
    const next = change(current);
    if (!next) return current;
    const updated: TaskRecord = { ...next, version: current.version + 1, lastUpdatedAt: new Date().toISOString() };
    if (await store.compareAndSet(taskId, current.version, updated)) return updated;
  }
  throw new Error(`task ${taskId}: too many concurrent changes`);
}
