// The request context every handler receives, whichever protocol era or transport produced the
// request: the dispatcher never asks where a request came from, only what it may do.

import type { Cancellation } from './cancellation.ts';
import type { JsonRpcId, JsonRpcMessage } from './jsonrpc.ts';
import type { LoggingLevel } from './logging.ts';
import type { ClientInfo, SessionRecord } from '../sessions/store.ts';
import type { StatelessMeta } from './stateless.ts';

/** Where messages related to one request go (its POST stream, or the session's GET stream). */
export interface Exchange {
  /** Sends a notification or request related to the request being handled. */
  send(message: JsonRpcMessage): Promise<void>;
  /**
   * Ends the request's SSE stream now, with a reconnect hint; the handler goes on and what it
   * sends later is retained for the client's GET + Last-Event-ID. False when not resumable.
   */
  closeStream?(retryMs?: number): boolean;
  /**
   * The request's cancellation, when the transport can cancel it too (stateless revision: the
   * client closed the connection). Without it the server makes its own.
   */
  cancellation?: Cancellation;
}

export interface ServerRequestOptions {
  /** Reject with a timeout error after this long. Default: the server's `requestTimeoutMs`. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /**
   * Sessionless era: the key of this question in `inputRequests` / `inputResponses`. Default: by
   * the order the handler asks (`input-1`, `input-2`…), stable when the handler is re-run.
   */
  key?: string;
}

/**
 * What a handler may know and do about the request it serves. Its operations are methods: call
 * them on the context (`ctx.progress(…)`), not detached from it.
 */
export interface RequestContext {
  readonly requestId: JsonRpcId;
  readonly method: string;
  readonly protocolVersion: string;
  /** Absent in the sessionless (2026) era. */
  readonly sessionId: string | undefined;
  readonly clientInfo: ClientInfo | undefined;
  readonly clientCapabilities: Record<string, unknown>;
  readonly principal: string | undefined;
  /** The request's `_meta`, as the client sent it. */
  readonly meta: Record<string, unknown> | undefined;
  /** Fires on `notifications/cancelled` for this request, or when the server shuts down. */
  readonly signal: AbortSignal;
  /**
   * SSE polling (spec 2025-11-25): ends this request's stream now; the client reconnects with
   * Last-Event-ID and receives the rest. Needs replay; returns false when the stream is not resumable.
   */
  closeSseStream(retryMs?: number): boolean;
  /** Sends a notification related to this request (on its stream when it has one). */
  notify(method: string, params?: Record<string, unknown>): Promise<void>;
  /** `notifications/progress`, sent only when the client asked for progress with a progressToken. */
  progress(progress: number, total?: number, message?: string): Promise<void>;
  /** `notifications/message`, sent only when it passes the session's `logging/setLevel` threshold. */
  log(level: LoggingLevel, data: unknown, logger?: string): Promise<void>;
  /** Sends a server-to-client request and awaits the client's result. */
  request(method: string, params?: Record<string, unknown>, options?: ServerRequestOptions): Promise<Record<string, unknown>>;
  /** `elicitation/create` (needs the client's `elicitation` capability). */
  elicit(params: Record<string, unknown>, options?: ServerRequestOptions): Promise<Record<string, unknown>>;
  /** `sampling/createMessage` (needs the client's `sampling` capability). */
  sample(params: Record<string, unknown>, options?: ServerRequestOptions): Promise<Record<string, unknown>>;
  /** `roots/list` (needs the client's `roots` capability). */
  listRoots(options?: ServerRequestOptions): Promise<Record<string, unknown>>;
  /**
   * Tasks extension (2026-07-28): in a tools/call of a tool registered with `taskSupport`, from a
   * request that declared the extension, the client is answered now with a CreateTaskResult and
   * the handler goes on; what it returns becomes the task's result, and its questions make the
   * task `input_required` until `tasks/update` answers them. Anywhere else it does nothing and
   * the call simply runs to its result.
   */
  startTask(options?: { statusMessage?: string }): Promise<void>;
}

/** Who sent a message and in which protocol context. */
export interface MessageOrigin {
  protocolVersion: string;
  session: SessionRecord | undefined;
  principal: string | undefined;
  /** Set for sessionless (2026-07-28) requests: what the request itself says about its client. */
  stateless?: StatelessMeta;
}
