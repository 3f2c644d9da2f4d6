// The SSE broker contract: how a message for one session reaches the one stream that session
// holds, wherever in the cluster that stream lives. Implementations: memory.ts (one process),
// redis.ts (many processes and hosts), cluster.ts (node:cluster IPC through the primary).

import type { JsonRpcId, JsonRpcMessage } from '../mcp/jsonrpc.ts';

/** What travels through a broker to the stream that holds a session. */
export type SseEvent =
  /** A message to write to the stream; `id` is its SSE event id when the replay buffer assigned one. */
  | { type: 'message'; message: JsonRpcMessage; id?: string }
  /** The stream must end: another subscribe took it over, or the session was deleted. */
  | { type: 'end'; reason: EndReason };

export type EndReason = 'takeover' | 'session-deleted';

export type SseEventListener = (event: SseEvent) => void;

/** Cluster-wide control messages: every process of the cluster receives each one. */
export type BusMessage =
  /** Deliver a notification to every session stream this process holds (server.broadcast). */
  | { type: 'notify-sessions'; message: JsonRpcMessage }
  /** Abort a request wherever it runs (notifications/cancelled landed on another worker). */
  | { type: 'cancel'; sessionId: string | null; requestId: JsonRpcId; reason: string }
  /** A session was changed or deleted: workers caching it drop their copy. */
  | { type: 'session-changed'; sessionId: string }
  /** A task's record changed (tasks/update stored answers): a handler waiting on it reads it again. */
  | { type: 'task-changed'; taskId: string };

export type BusListener = (message: BusMessage) => void;

export interface SseBroker {
  /**
   * Attaches the one subscriber of `sessionId`. Resolves only once the subscription is live, so a
   * publish issued after it resolves is delivered. Any previous subscriber of the session, in this
   * process or another, receives `{ type: 'end', reason: 'takeover' }` and is detached: a message is
   * never delivered to two subscribers.
   */
  subscribe(sessionId: string, onEvent: SseEventListener): Promise<void>;
  /**
   * Detaches this process's subscriber of `sessionId`, if any. With `listener`, only when that
   * listener is still the subscriber: a stream closing late must not detach the one that took over.
   */
  unsubscribe(sessionId: string, listener?: SseEventListener): Promise<void>;
  /** Delivers an event; resolves true when a subscriber was attached to receive it. */
  publish(sessionId: string, event: SseEvent): Promise<boolean>;
  /** Whether any process of the cluster has a subscriber for `sessionId`. */
  hasSubscriber(sessionId: string): Promise<boolean>;
  /** Sends a control message to every process's bus listener, this one's included. */
  broadcast(message: BusMessage): Promise<void>;
  /** Registers this process's bus listener; resolves once it receives broadcasts. */
  onBroadcast(listener: BusListener): Promise<void>;
  /** Detaches every subscriber of this process. Never closes a connection it was given. */
  close(): Promise<void>;
}
