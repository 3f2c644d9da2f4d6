// Per-worker capacity limits and the "try again later" answer: too many GET streams or sessions
// on this worker, or a backend (Redis, the cluster primary) that cannot answer right now, is a
// 503 with Retry-After, never an unexplained 500.

import type { SessionStore } from '../sessions/store.ts';
import { ErrorCode, McpError } from '../mcp/errors.ts';

/** A refusal the client may retry: 503 with a Retry-After header. */
export class UnavailableError extends McpError {
  readonly retryAfterSeconds: number;

  constructor(message: string, retryAfterSeconds = 1) {
    super(ErrorCode.InternalError, message, { httpStatus: 503 });
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

// Node error codes of a connection that went away, and the stable codes ioredis and the cluster
// IPC client use for "cannot reach the backend".
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'MCP_CLUSTER_IPC_DISCONNECTED',
  'MCP_CLUSTER_IPC_TIMEOUT',
  'MCP_CLUSTER_IPC_CLOSED',
]);

/**
 * Whether `err` says a backend is unreachable (as opposed to a bug): ioredis rejects queued
 * commands with MaxRetriesPerRequestError while Redis is down, and "Connection is closed." when
 * the connection drops under a command.
 */
export function isBackendUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'MaxRetriesPerRequestError') return true;
  if (err.message === 'Connection is closed.' || err.message.startsWith("Stream isn't writeable")) return true;
  // ioredis's commandTimeout: Redis accepted the connection but stopped answering.
  if (err.message === 'Command timed out') return true;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && UNREACHABLE_CODES.has(code);
}

/** Counts this worker's GET streams; `acquire` refuses beyond `max` (0: unlimited). */
export class StreamLimit {
  readonly #max: number;
  #open = 0;

  constructor(max: number) {
    this.#max = max;
  }

  get open(): number {
    return this.#open;
  }

  /** Takes a slot or throws an UnavailableError; the returned function gives it back (once). */
  acquire(): () => void {
    if (this.#max > 0 && this.#open >= this.#max) {
      throw new UnavailableError(`Too many streams on this worker (limit ${this.#max}); retry later`, 1);
    }
    this.#open++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#open--;
    };
  }
}

/** How often, at most, a full SessionLimit asks the store which of its sessions still exist. */
const AUDIT_INTERVAL_MS = 1_000;

/**
 * Counts the sessions this worker opened. A session may end elsewhere (DELETE on another worker,
 * idle expiry in the store), so when the count reaches `max` the limit asks the store which of
 * them still exist before refusing: the count is exact whenever it matters.
 */
export class SessionLimit {
  readonly #max: number;
  readonly #store: SessionStore;
  readonly #ids = new Set<string>();
  /** Admitted but not yet opened (initialize in progress): counted, so a burst cannot overshoot. */
  #reserved = 0;
  #lastAuditAt = 0;
  #audit: Promise<void> | undefined;

  constructor(max: number, store: SessionStore) {
    this.#max = max;
    this.#store = store;
  }

  get open(): number {
    return this.#ids.size;
  }

  /** Reserves a slot for a session about to open, or throws an UnavailableError. */
  async admit(): Promise<{ opened(id: string): void; cancel(): void }> {
    if (this.#max > 0 && this.#ids.size + this.#reserved >= this.#max && Date.now() - this.#lastAuditAt >= AUDIT_INTERVAL_MS) {
      await (this.#audit ??= this.#prune().finally(() => (this.#audit = undefined)));
    }
    if (this.#max > 0 && this.#ids.size + this.#reserved >= this.#max) {
      throw new UnavailableError(`Too many sessions on this worker (limit ${this.#max}); retry later`, 5);
    }
    this.#reserved++;
    let settled = false;
    const settle = () => {
      if (settled) return false;
      settled = true;
      this.#reserved--;
      return true;
    };
    return {
      opened: (id) => {
        if (settle()) this.#ids.add(id);
      },
      cancel: () => void settle(),
    };
  }

  /** A session this worker saw end (DELETE here). */
  closed(id: string): void {
    this.#ids.delete(id);
  }

  async #prune(): Promise<void> {
    this.#lastAuditAt = Date.now();
    const ids = [...this.#ids];
    // A store that cannot answer keeps the session counted: refusing is the safe side.
    const alive = await Promise.all(ids.map((id) => this.#store.get(id).then((record) => record !== undefined, () => true)));
    ids.forEach((id, index) => {
      if (!alive[index]) this.#ids.delete(id);
    });
  }
}
