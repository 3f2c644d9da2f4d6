// The primary's side of the cluster backend (several workers, no Redis): it holds the session
// store and which worker holds the stream of each session, and routes every publish to that
// worker. Workers reach it through ClusterBroker and ClusterSessionStore (protocol: ipc.ts).

import type { Cluster, Worker } from 'node:cluster';
import type { BusMessage, SseEvent } from '../broker/broker.ts';
import { isBusMessage } from '../broker/redis-wire.ts';
import { MemorySessionStore } from '../sessions/memory.ts';
import { MemoryTaskStore } from '../tasks/memory.ts';
import type { TaskRecord } from '../tasks/store.ts';
import type { JsonRpcMessage } from '../mcp/jsonrpc.ts';
import { MemoryReplayBuffer, type ReplayLimits } from '../replay/memory.ts';
import type { SessionPatch, SessionRecord, SessionStore } from '../sessions/store.ts';
import {
  asWorkerMessage,
  isSseEvent,
  toWorker,
  type HubOperation,
  type OperationResult,
  type PrimaryMessage,
  type WorkerMessage,
} from './ipc.ts';

export interface ClusterHubOptions {
  /** Where sessions live. Default: a MemorySessionStore owned (and closed) by the hub. */
  sessions?: SessionStore;
  /** Idle expiry of the default store. Default 1 hour. */
  idleTimeoutMs?: number;
  /** Retain stream events for Last-Event-ID resume (`--replay`), with these limits. */
  replay?: ReplayLimits;
}

export interface ClusterHub {
  /** The store every worker's ClusterSessionStore reads and writes. */
  readonly sessions: SessionStore;
  /** The id of the worker holding the stream of `sessionId`, if any. */
  holderOf(sessionId: string): number | undefined;
  /**
   * Stops serving: removes the hub's cluster listeners, answers publishes still waiting for a
   * holder with false, and closes the session store when the hub created it.
   */
  detach(): Promise<void>;
}

/** The one subscription of a session: the broker (`origin`) of a worker, and its subscribe call. */
interface Holder {
  worker: Worker;
  origin: string;
  token: string;
}

/** A publish waiting for the holder to say whether a listener got the event. */
interface Delivery {
  holderId: number;
  resolve(delivered: boolean): void;
}

type Request = Extract<WorkerMessage, { kind: 'request' }>;

/** Serves the cluster backend to every worker of `cluster`, present and future. Call in the primary. */
export function attachClusterHub(cluster: Cluster, options: ClusterHubOptions = {}): ClusterHub {
  const ownsSessions = options.sessions === undefined;
  const sessions = options.sessions ?? new MemorySessionStore({ idleTimeoutMs: options.idleTimeoutMs });
  /** Workers that receive bus messages, by worker id. */
  const busListeners = new Map<number, Worker>();
  /** Workers listening to each topic (subscription broker), by worker id. */
  const topicListeners = new Map<string, Map<number, Worker>>();
  const replay = options.replay ? new MemoryReplayBuffer(options.replay) : undefined;
  /** The tasks extension's tasks, readable by every worker. */
  const tasks = new MemoryTaskStore();
  const requireReplay = (): MemoryReplayBuffer => {
    if (!replay) throw new TypeError('replay is not enabled on this cluster (--replay)');
    return replay;
  };
  const holders = new Map<string, Holder>();
  const deliveries = new Map<number, Delivery>();
  let deliverySequence = 0;

  function send(worker: Worker, message: PrimaryMessage, onError?: () => void): void {
    if (!worker.isConnected()) {
      onError?.();
      return;
    }
    // With a callback, a send on a channel closing under us reports here instead of throwing.
    worker.send(message, (error) => {
      if (error) onError?.();
    });
  }

  function settleDelivery(deliveryId: number, delivered: boolean): void {
    const delivery = deliveries.get(deliveryId);
    if (!delivery) return;
    deliveries.delete(deliveryId);
    delivery.resolve(delivered);
  }

  // Broker operations run synchronously on arrival: the primary's order of subscribes and
  // publishes is the cluster's order, and each worker's channel keeps its own calls in order.
  const broker = {
    subscribe(worker: Worker, sessionId: string, origin: string, token: string): void {
      const previous = holders.get(sessionId);
      // Registered before the caller hears back: a publish issued after subscribe resolves is routed here.
      holders.set(sessionId, { worker, origin, token });
      // A broker replacing its own subscription already ended the old listener locally.
      if (previous && previous.origin !== origin) {
        send(previous.worker, toWorker({ kind: 'takeover', origin: previous.origin, sessionId, token: previous.token }));
      }
    },

    unsubscribe(worker: Worker, sessionId: string, origin: string, token: string): void {
      const holder = holders.get(sessionId);
      // A late unsubscribe of a subscription that was taken over must not detach its successor.
      if (holder && holder.worker.id === worker.id && holder.origin === origin && holder.token === token) {
        holders.delete(sessionId);
      }
    },

    publish(sessionId: string, event: SseEvent): Promise<boolean> {
      const holder = holders.get(sessionId);
      if (!holder) return Promise.resolve(false);
      // An end event detaches the subscriber: it is no longer the session's subscriber.
      if (event.type === 'end') holders.delete(sessionId);
      const deliveryId = ++deliverySequence;
      return new Promise<boolean>((resolve) => {
        deliveries.set(deliveryId, { holderId: holder.worker.id, resolve });
        const message = toWorker({ kind: 'deliver', deliveryId, origin: holder.origin, sessionId, event });
        send(holder.worker, message, () => settleDelivery(deliveryId, false));
      });
    },

    close(worker: Worker, origin: string): void {
      for (const [sessionId, holder] of holders) {
        if (holder.worker.id === worker.id && holder.origin === origin) holders.delete(sessionId);
      }
    },
  };

  function handle(worker: Worker, request: Request): OperationResult<HubOperation> | Promise<OperationResult<HubOperation>> {
    const args = request.args;
    if (typeof args !== 'object' || args === null) throw new TypeError(`"${request.op}": arguments must be an object`);
    const field = <T>(name: string, check: (value: unknown) => boolean, what: string): T => {
      const value = (args as Record<string, unknown>)[name];
      if (!check(value)) throw new TypeError(`"${request.op}": ${name} must be ${what}`);
      return value as T;
    };
    const string = (name: string) => field<string>(name, (v) => typeof v === 'string', 'a string');
    const object = <T>(name: string) => field<T>(name, (v) => typeof v === 'object' && v !== null, 'an object');

    switch (request.op) {
      case 'broker.subscribe':
        return broker.subscribe(worker, string('sessionId'), string('origin'), string('token'));
      case 'broker.unsubscribe':
        return broker.unsubscribe(worker, string('sessionId'), string('origin'), string('token'));
      case 'broker.publish':
        return broker.publish(string('sessionId'), field<SseEvent>('event', isSseEvent, 'an SSE event'));
      case 'broker.hasSubscriber':
        return holders.has(string('sessionId'));
      case 'broker.broadcast': {
        const message = field<BusMessage>('message', isBusMessage, 'a bus message');
        for (const listener of busListeners.values()) send(listener, toWorker({ kind: 'bus', message }));
        return;
      }
      case 'topics.subscribe':
        for (const topic of field<string[]>('topics', isStringArray, 'a list of strings')) {
          let listeners = topicListeners.get(topic);
          if (!listeners) topicListeners.set(topic, (listeners = new Map()));
          listeners.set(worker.id, worker);
        }
        return;
      case 'topics.unsubscribe':
        for (const topic of field<string[]>('topics', isStringArray, 'a list of strings')) {
          const listeners = topicListeners.get(topic);
          listeners?.delete(worker.id);
          if (listeners?.size === 0) topicListeners.delete(topic);
        }
        return;
      case 'topics.publish': {
        const topic = string('topic');
        const event = (args as { event?: unknown }).event;
        const listeners = [...(topicListeners.get(topic)?.values() ?? [])];
        for (const listener of listeners) send(listener, toWorker({ kind: 'topic', topic, event }));
        return listeners.length;
      }
      case 'broker.listen':
        busListeners.set(worker.id, worker);
        return;
      case 'broker.close':
        return broker.close(worker, string('origin'));
      case 'sessions.create': {
        const record = object<SessionRecord>('record');
        if (typeof record.id !== 'string') throw new TypeError('"sessions.create": record.id must be a string');
        return sessions.create(record);
      }
      case 'sessions.get':
        return sessions.get(string('id'));
      case 'sessions.update':
        return sessions.update(string('id'), object<SessionPatch>('patch'));
      case 'sessions.touch':
        return sessions.touch(string('id'));
      case 'sessions.delete':
        return sessions.delete(string('id'));
      case 'sessions.subscribeResource':
        return sessions.subscribeResource(string('id'), string('uri'));
      case 'sessions.unsubscribeResource':
        return sessions.unsubscribeResource(string('id'), string('uri'));
      case 'sessions.subscribersOf':
        return sessions.subscribersOf(string('uri'));
      case 'replay.append':
        return requireReplay().appendNow(string('sessionId'), string('streamId'), object<JsonRpcMessage>('message'));
      case 'replay.appendAndPublish': {
        // Retained and routed in the same turn: the holder sees events in append order.
        const message = object<JsonRpcMessage>('message');
        const id = requireReplay().appendNow(string('sessionId'), string('streamId'), message);
        return broker.publish(string('brokerKey'), { type: 'message', message, id }).then((delivered) => ({ id, delivered }));
      }
      case 'replay.entriesAfter':
        return requireReplay().entriesAfter(string('sessionId'), string('lastEventId'));
      case 'replay.tail':
        return requireReplay().tailNow(string('sessionId'), string('streamId'));
      case 'replay.forget':
        return requireReplay().forget(string('sessionId'));
      case 'tasks.create': {
        const record = object<TaskRecord>('record');
        if (typeof record.taskId !== 'string' || typeof record.ttlMs !== 'number') throw new TypeError('"tasks.create": record needs a taskId and a ttlMs');
        return tasks.create(record);
      }
      case 'tasks.get':
        return tasks.getNow(string('taskId'));
      case 'tasks.compareAndSet':
        return tasks.compareAndSetNow(string('taskId'), field<number>('expectedVersion', Number.isInteger, 'an integer'), object<TaskRecord>('record'));
      default:
        throw new TypeError(`unknown operation "${String((request as { op: unknown }).op)}"`);
    }
  }

  function respond(worker: Worker, request: Request): void {
    let result: unknown;
    try {
      result = handle(worker, request);
    } catch (error) {
      result = Promise.reject(error);
    }
    Promise.resolve(result).then(
      (value) => send(worker, toWorker({ kind: 'response', id: request.id, ok: true, value })),
      (error: unknown) => {
        const { message, code } = error instanceof Error ? (error as Error & { code?: unknown }) : { message: String(error), code: undefined };
        const failure = typeof code === 'string' ? { message, code } : { message };
        send(worker, toWorker({ kind: 'response', id: request.id, ok: false, error: failure }));
      },
    );
  }

  const onMessage = (worker: Worker, raw: unknown): void => {
    const message = asWorkerMessage(raw);
    if (!message) return; // not ours: pm2, lifecycle messages, user code
    if (message.kind === 'request') respond(worker, message);
    else if (deliveries.get(message.deliveryId)?.holderId === worker.id) settleDelivery(message.deliveryId, message.delivered);
  };

  // A worker that exited (or can no longer hear us) holds nothing: drop its streams, and answer
  // the publishes it will never acknowledge.
  const onWorkerGone = (worker: Worker): void => {
    busListeners.delete(worker.id);
    for (const [topic, listeners] of topicListeners) {
      listeners.delete(worker.id);
      if (listeners.size === 0) topicListeners.delete(topic);
    }
    for (const [sessionId, holder] of holders) {
      if (holder.worker.id === worker.id) holders.delete(sessionId);
    }
    for (const [deliveryId, delivery] of deliveries) {
      if (delivery.holderId === worker.id) settleDelivery(deliveryId, false);
    }
  };

  cluster.on('message', onMessage);
  cluster.on('disconnect', onWorkerGone);
  cluster.on('exit', onWorkerGone);

  let detached: Promise<void> | undefined;
  return {
    sessions,
    holderOf(sessionId) {
      return holders.get(sessionId)?.worker.id;
    },
    detach() {
      return (detached ??= (async () => {
        cluster.off('message', onMessage);
        cluster.off('disconnect', onWorkerGone);
        cluster.off('exit', onWorkerGone);
        for (const deliveryId of [...deliveries.keys()]) settleDelivery(deliveryId, false);
        holders.clear();
        busListeners.clear();
        topicListeners.clear();
        if (ownsSessions) await sessions.close();
        await replay?.close();
        await tasks.close();
      })());
    },
  };
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}
