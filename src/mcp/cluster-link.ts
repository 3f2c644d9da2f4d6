// What one server process needs from the rest of the cluster, over its broker: the session
// streams it holds (so a broadcast reaches each live session exactly once: each session has one
// stream, held by one process), replies to server-to-client requests that landed on another
// worker, and cancellations of requests running elsewhere.

import type { BusMessage, SseBroker, SseEvent, SseEventListener } from '../broker/broker.ts';
import type { JsonRpcId, JsonRpcMessage, JsonRpcResponse } from './jsonrpc.ts';
import { isResponse } from './jsonrpc.ts';

export interface ClusterLinkHandlers {
  /** A client's reply routed here from the worker that received it. */
  onReply(response: JsonRpcResponse): void;
  /** A cancellation that may concern a request running here. */
  onCancel(sessionId: string | undefined, requestId: JsonRpcId, reason: string): void;
  /** A session changed elsewhere: a cached copy here is stale. */
  onSessionChanged(sessionId: string): void;
  /** A task changed (on any worker, this one included): its handler, if it waits here, rereads it. */
  onTaskChanged(taskId: string): void;
}

/** The broker key a process listens on for replies addressed to it. */
function instanceKey(instanceId: string): string {
  return `~instance:${instanceId}`;
}

export class ClusterLink {
  readonly #broker: SseBroker;
  readonly #instanceId: string;
  readonly #handlers: ClusterLinkHandlers;
  /** Session id → listener of the session's GET stream held by this process. */
  readonly #sessionStreams = new Map<string, SseEventListener>();
  #started: Promise<void> | undefined;

  constructor(broker: SseBroker, instanceId: string, handlers: ClusterLinkHandlers) {
    this.#broker = broker;
    this.#instanceId = instanceId;
    this.#handlers = handlers;
  }

  /** Starts listening for replies and bus messages; idempotent. */
  start(): Promise<void> {
    return (this.#started ??= (async () => {
      await this.#broker.subscribe(instanceKey(this.#instanceId), (event) => {
        if (event.type === 'message' && isResponse(event.message)) this.#handlers.onReply(event.message);
      });
      await this.#broker.onBroadcast((message) => this.#onBus(message));
    })());
  }

  /** Subscribes a stream through the broker, remembering the session streams held here. */
  async attachStream(key: string, listener: SseEventListener): Promise<void> {
    const tracked: SseEventListener = isSessionKey(key)
      ? (event) => {
          // An end detaches the listener (takeover, deletion): it no longer holds the session here.
          if (event.type === 'end' && this.#sessionStreams.get(key) === tracked) this.#sessionStreams.delete(key);
          listener(event);
        }
      : listener;
    if (isSessionKey(key)) this.#sessionStreams.set(key, tracked);
    trackedOf.set(listener, tracked);
    try {
      await this.#broker.subscribe(key, tracked);
    } catch (err) {
      if (this.#sessionStreams.get(key) === tracked) this.#sessionStreams.delete(key);
      throw err;
    }
  }

  async detachStream(key: string, listener: SseEventListener): Promise<void> {
    const tracked = trackedOf.get(listener) ?? listener;
    if (this.#sessionStreams.get(key) === tracked) this.#sessionStreams.delete(key);
    await this.#broker.unsubscribe(key, tracked);
  }

  /** Every live session of the cluster receives `message` once, on its GET stream. */
  broadcast(message: JsonRpcMessage): Promise<void> {
    return this.#broker.broadcast({ type: 'notify-sessions', message });
  }

  cancelEverywhere(sessionId: string | undefined, requestId: JsonRpcId, reason: string): Promise<void> {
    return this.#broker.broadcast({ type: 'cancel', sessionId: sessionId ?? null, requestId, reason });
  }

  /** Hands a reply to the process that issued the request; false when that process is gone. */
  routeReply(ownerInstanceId: string, response: JsonRpcResponse): Promise<boolean> {
    return this.#broker.publish(instanceKey(ownerInstanceId), { type: 'message', message: response });
  }

  /** Tells every worker that a session changed (their cached copies are stale). */
  sessionChanged(sessionId: string): Promise<void> {
    return this.#broker.broadcast({ type: 'session-changed', sessionId });
  }

  /** Tells every worker that a task changed (its handler may wait for answers somewhere). */
  taskChanged(taskId: string): Promise<void> {
    return this.#broker.broadcast({ type: 'task-changed', taskId });
  }

  #onBus(message: BusMessage): void {
    if (message.type === 'session-changed') {
      this.#handlers.onSessionChanged(message.sessionId);
      return;
    }
    if (message.type === 'task-changed') {
      this.#handlers.onTaskChanged(message.taskId);
      return;
    }
    if (message.type === 'cancel') {
      this.#handlers.onCancel(message.sessionId ?? undefined, message.requestId, message.reason);
      return;
    }
    const event: SseEvent = { type: 'message', message: message.message };
    for (const listener of [...this.#sessionStreams.values()]) listener(event);
  }
}

/** The listener the broker holds for each listener the transport gave us. */
const trackedOf = new WeakMap<SseEventListener, SseEventListener>();

/** GET streams are keyed by the bare session id; resumed POST streams and instances are not. */
function isSessionKey(key: string): boolean {
  return !key.includes('/') && !key.startsWith('~');
}
