// The wire protocol between node:cluster workers and the primary's hub (hub.ts), for the cluster
// broker and session store: requests with correlation ids that the primary answers, and pushes
// from the primary (a message to deliver, a takeover). Every message carries `mcpCluster: 1`, so
// anything else on the channel (pm2's `process:msg`, lifecycle messages, user code) is ignored by
// both sides.

import type { TaskRecord } from '../tasks/store.ts';
import { randomUUID } from 'node:crypto';
import type { BusMessage, SseEvent } from '../broker/broker.ts';
import { isBusMessage } from '../broker/redis-wire.ts';
import type { SessionPatch, SessionRecord } from '../sessions/store.ts';
import type { JsonRpcMessage } from '../mcp/jsonrpc.ts';
import type { ReplayEntry, ReplayOutcome } from '../replay/replay.ts';

export const PROTOCOL_VERSION = 1;

/** What a worker asks the primary, by operation: its arguments and what it resolves with. */
export interface HubOperations {
  'broker.subscribe': { args: { sessionId: string; origin: string; token: string }; result: void };
  /** Only removes the subscription when it is still the one `token` registered. */
  'broker.unsubscribe': { args: { sessionId: string; origin: string; token: string }; result: void };
  /** Resolves once the holder acknowledged: true when a listener there got the event. */
  'broker.publish': { args: { sessionId: string; event: SseEvent }; result: boolean };
  'broker.hasSubscriber': { args: { sessionId: string }; result: boolean };
  /** Sends a bus message to every worker that listens (broker.listen), the caller included. */
  'broker.broadcast': { args: { message: BusMessage }; result: void };
  /** The calling worker receives events of these topics from now on (subscription broker). */
  'topics.subscribe': { args: { topics: string[] }; result: void };
  'topics.unsubscribe': { args: { topics: string[] }; result: void };
  /** Resolves to how many workers listen to the topic. */
  'topics.publish': { args: { topic: string; event: unknown }; result: number };
  /** The calling worker receives bus messages from now on. */
  'broker.listen': { args: Record<string, never>; result: void };
  /** Drops every subscription the broker `origin` of the calling worker holds. */
  'broker.close': { args: { origin: string }; result: void };
  'sessions.create': { args: { record: SessionRecord }; result: void };
  'sessions.get': { args: { id: string }; result: SessionRecord | undefined };
  'sessions.update': { args: { id: string; patch: SessionPatch }; result: void };
  'sessions.touch': { args: { id: string }; result: void };
  'sessions.delete': { args: { id: string }; result: boolean };
  'sessions.subscribeResource': { args: { id: string; uri: string }; result: void };
  'sessions.unsubscribeResource': { args: { id: string; uri: string }; result: void };
  'sessions.subscribersOf': { args: { uri: string }; result: string[] };
  'replay.append': { args: { sessionId: string; streamId: string; message: JsonRpcMessage }; result: string };
  /** Retains, then publishes with the event id, in one round trip (see broker.publish). */
  'replay.appendAndPublish': {
    args: { sessionId: string; streamId: string; brokerKey: string; message: JsonRpcMessage };
    result: { id: string; delivered: boolean };
  };
  'replay.entriesAfter': { args: { sessionId: string; lastEventId: string }; result: ReplayOutcome & { entries: ReplayEntry[] } };
  'replay.tail': { args: { sessionId: string; streamId: string }; result: string };
  'replay.forget': { args: { sessionId: string }; result: void };
  'tasks.create': { args: { record: TaskRecord }; result: void };
  'tasks.get': { args: { taskId: string }; result: TaskRecord | undefined };
  'tasks.compareAndSet': { args: { taskId: string; expectedVersion: number; record: TaskRecord }; result: boolean };
}

export type HubOperation = keyof HubOperations;
export type OperationArgs<O extends HubOperation> = HubOperations[O]['args'];
export type OperationResult<O extends HubOperation> = HubOperations[O]['result'];

interface Tagged {
  mcpCluster: typeof PROTOCOL_VERSION;
}

/** Worker → primary. */
export type WorkerMessage =
  | (Tagged & { kind: 'request'; id: string; op: HubOperation; args: unknown })
  /** The holder's answer to a `deliver`: whether a local listener got the event. */
  | (Tagged & { kind: 'delivered'; deliveryId: number; delivered: boolean });

/** Primary → worker. */
export type PrimaryMessage =
  | (Tagged & { kind: 'response'; id: string; ok: true; value?: unknown })
  | (Tagged & { kind: 'response'; id: string; ok: false; error: { message: string; code?: string } })
  /** An event for the session the broker `origin` of this worker holds; answer with `delivered`. */
  | (Tagged & { kind: 'deliver'; deliveryId: number; origin: string; sessionId: string; event: SseEvent })
  /** The subscription `token` of broker `origin` was taken over by a subscribe elsewhere. */
  | (Tagged & { kind: 'takeover'; origin: string; sessionId: string; token: string })
  /** A cluster-wide control message (see BusMessage). */
  | (Tagged & { kind: 'bus'; message: BusMessage })
  /** An event on a topic this worker listens to. */
  | (Tagged & { kind: 'topic'; topic: string; event: unknown });

export type PushMessage = Extract<PrimaryMessage, { kind: 'deliver' | 'takeover' | 'bus' | 'topic' }>;

type Untagged<M> = M extends unknown ? Omit<M, 'mcpCluster'> : never;

export function toPrimary(message: Untagged<WorkerMessage>): WorkerMessage {
  return { mcpCluster: PROTOCOL_VERSION, ...message } as WorkerMessage;
}

export function toWorker(message: Untagged<PrimaryMessage>): PrimaryMessage {
  return { mcpCluster: PROTOCOL_VERSION, ...message } as PrimaryMessage;
}

/** The fields of a message carrying our tag, or undefined for anything else. */
function tagged(value: unknown): Record<string, unknown> | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const fields = value as Record<string, unknown>;
  return fields.mcpCluster === PROTOCOL_VERSION ? fields : undefined;
}

/** A worker → primary message, or undefined for anything else on the channel. */
export function asWorkerMessage(raw: unknown): WorkerMessage | undefined {
  const value = tagged(raw);
  if (!value) return undefined;
  if (value.kind === 'request' && typeof value.id === 'string' && typeof value.op === 'string') return raw as WorkerMessage;
  if (value.kind === 'delivered' && typeof value.deliveryId === 'number' && typeof value.delivered === 'boolean') {
    return raw as WorkerMessage;
  }
  return undefined;
}

/** A primary → worker message, or undefined for anything else on the channel. */
export function asPrimaryMessage(raw: unknown): PrimaryMessage | undefined {
  const value = tagged(raw);
  if (!value) return undefined;
  const strings = (...keys: string[]) => keys.every((key) => typeof value[key] === 'string');
  if (value.kind === 'response' && strings('id') && (value.ok === true || (value.ok === false && isErrorShape(value.error)))) {
    return raw as PrimaryMessage;
  }
  if (value.kind === 'deliver' && typeof value.deliveryId === 'number' && strings('origin', 'sessionId') && isSseEvent(value.event)) {
    return raw as PrimaryMessage;
  }
  if (value.kind === 'takeover' && strings('origin', 'sessionId', 'token')) return raw as PrimaryMessage;
  if (value.kind === 'bus' && isBusMessage(value.message)) return raw as PrimaryMessage;
  if (value.kind === 'topic' && strings('topic')) return raw as PrimaryMessage;
  return undefined;
}

function isErrorShape(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string';
}

export function isSseEvent(value: unknown): value is SseEvent {
  if (typeof value !== 'object' || value === null) return false;
  const event = value as Record<string, unknown>;
  if (event.type === 'message') return typeof event.message === 'object' && event.message !== null;
  return event.type === 'end' && typeof event.reason === 'string';
}

export type ClusterIpcErrorCode =
  /** Not running with an IPC channel (not a node:cluster worker). */
  | 'MCP_CLUSTER_IPC_NO_CHANNEL'
  /** The channel to the primary is closed: the primary is gone or disconnected us. */
  | 'MCP_CLUSTER_IPC_DISCONNECTED'
  /** The primary did not answer in time. */
  | 'MCP_CLUSTER_IPC_TIMEOUT'
  /** The client was closed while the call was pending. */
  | 'MCP_CLUSTER_IPC_CLOSED'
  /** The primary answered with an error. */
  | 'MCP_CLUSTER_IPC_REMOTE';

export class ClusterIpcError extends Error {
  override readonly name = 'ClusterIpcError';
  constructor(
    readonly code: ClusterIpcErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A worker's end of the channel to the primary. `processPort()` is the real one. */
export interface IpcPort {
  readonly connected: boolean;
  /** Sends one message; `callback` gets the error instead of it being emitted on the process. */
  send(message: WorkerMessage, callback: (error: Error | null) => void): void;
  /** Registers a listener; returns what removes it. */
  onMessage(listener: (message: unknown) => void): () => void;
  onDisconnect(listener: () => void): () => void;
}

/** This process's IPC channel to its parent: the primary, in a node:cluster worker. */
export function processPort(proc: NodeJS.Process = process): IpcPort {
  const send = proc.send?.bind(proc);
  if (!send) {
    throw new ClusterIpcError(
      'MCP_CLUSTER_IPC_NO_CHANNEL',
      'cluster IPC: this process has no IPC channel; the cluster backend only runs in a node:cluster worker',
    );
  }
  return {
    get connected() {
      return proc.connected;
    },
    send(message, callback) {
      send(message, undefined, undefined, callback);
    },
    onMessage(listener) {
      proc.on('message', listener);
      return () => proc.off('message', listener);
    },
    onDisconnect(listener) {
      proc.on('disconnect', listener);
      return () => proc.off('disconnect', listener);
    },
  };
}

export interface IpcClientOptions {
  /** Default: this process's channel to the primary. */
  port?: IpcPort;
  /** How long a call waits for the primary before rejecting. Default 5 s. */
  timeoutMs?: number;
  /** Receives the primary's pushes (`deliver`, `takeover`); every client of the process sees all. */
  onPush?: (message: PushMessage) => void;
}

interface Pending {
  op: HubOperation;
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

export const DEFAULT_IPC_TIMEOUT_MS = 5_000;

/**
 * Calls the primary's hub and receives its pushes. Several clients may share a process (a broker
 * and a session store): each recognizes its own responses by the id prefix it picked.
 */
export class IpcClient {
  readonly #port: IpcPort;
  readonly #timeoutMs: number;
  readonly #onPush: ((message: PushMessage) => void) | undefined;
  readonly #prefix = `${randomUUID()}/`;
  readonly #pending = new Map<string, Pending>();
  readonly #stopListening: Array<() => void>;
  #sequence = 0;
  #closed = false;

  constructor(options: IpcClientOptions = {}) {
    this.#port = options.port ?? processPort();
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_IPC_TIMEOUT_MS;
    this.#onPush = options.onPush;
    this.#stopListening = [this.#port.onMessage(this.#onMessage), this.#port.onDisconnect(this.#onDisconnect)];
  }

  /** Asks the primary; rejects with a ClusterIpcError when it cannot answer. */
  request<O extends HubOperation>(op: O, args: OperationArgs<O>): Promise<OperationResult<O>> {
    if (this.#closed) return Promise.reject(new ClusterIpcError('MCP_CLUSTER_IPC_CLOSED', `cluster IPC: "${op}" called after close`));
    if (!this.#port.connected) return Promise.reject(disconnected(op));
    const id = this.#prefix + ++this.#sequence;
    return new Promise<OperationResult<O>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(
          new ClusterIpcError(
            'MCP_CLUSTER_IPC_TIMEOUT',
            `cluster IPC: the primary did not answer "${op}" within ${this.#timeoutMs} ms; is it alive and running the cluster hub?`,
          ),
        );
      }, this.#timeoutMs);
      this.#pending.set(id, { op, resolve: resolve as (value: unknown) => void, reject, timer });
      this.#port.send(toPrimary({ kind: 'request', id, op, args }), (error) => {
        if (error) this.#settle(id, (p) => p.reject(disconnected(op, error)));
      });
    });
  }

  /** Sends without waiting for an answer (acknowledgements). Best effort: a closed channel drops it. */
  post(message: Untagged<Extract<WorkerMessage, { kind: 'delivered' }>>): void {
    if (!this.#port.connected) return;
    this.#port.send(toPrimary(message), () => {});
  }

  /** Stops listening and rejects whatever is still pending. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const stop of this.#stopListening) stop();
    for (const id of [...this.#pending.keys()]) {
      this.#settle(id, (p) => p.reject(new ClusterIpcError('MCP_CLUSTER_IPC_CLOSED', `cluster IPC: closed while "${p.op}" was pending`)));
    }
  }

  readonly #onMessage = (raw: unknown): void => {
    const message = asPrimaryMessage(raw);
    if (!message) return;
    if (message.kind !== 'response') {
      this.#onPush?.(message);
      return;
    }
    if (!message.id.startsWith(this.#prefix)) return; // another client's
    this.#settle(message.id, (p) => {
      if (message.ok) p.resolve(message.value);
      else p.reject(new ClusterIpcError('MCP_CLUSTER_IPC_REMOTE', `cluster IPC: "${p.op}" failed in the primary: ${message.error.message}`));
    });
  };

  readonly #onDisconnect = (): void => {
    for (const id of [...this.#pending.keys()]) this.#settle(id, (p) => p.reject(disconnected(p.op)));
  };

  #settle(id: string, settle: (pending: Pending) => void): void {
    const pending = this.#pending.get(id);
    if (!pending) return; // timed out, or already failed to send
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    settle(pending);
  }
}

function disconnected(op: string, cause?: Error): ClusterIpcError {
  return new ClusterIpcError(
    'MCP_CLUSTER_IPC_DISCONNECTED',
    `cluster IPC: "${op}" failed: the IPC channel to the primary is closed (primary gone?)`,
    cause ? { cause } : undefined,
  );
}
