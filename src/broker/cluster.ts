// Broker for several node:cluster workers without Redis: the primary's hub (cluster/hub.ts) knows
// which worker holds each session's stream and routes every publish there over IPC. Same
// semantics as MemoryBroker and RedisBroker; the primary's order of calls is the cluster's order.

import { randomUUID } from 'node:crypto';
import { ClusterIpcError, IpcClient, type IpcPort, type PushMessage } from '../cluster/ipc.ts';
import type { BusListener, BusMessage, SseBroker, SseEvent, SseEventListener } from './broker.ts';
import { deliverSafely } from './deliver.ts';

export interface ClusterBrokerOptions {
  /** The channel to the primary. Default: this process's (a node:cluster worker's). */
  port?: IpcPort;
  /** How long a call waits for the primary before rejecting. Default 5 s. */
  timeoutMs?: number;
}

interface Subscription {
  listener: SseEventListener;
  /** Unique per subscribe call: the primary names the subscription it took over by it. */
  token: string;
}

const TAKEOVER: SseEvent = { type: 'end', reason: 'takeover' };

export class ClusterBroker implements SseBroker {
  /** Identifies this broker at the primary; a worker may hold several. */
  readonly #origin = randomUUID();
  /** This broker's subscriber of each session. */
  readonly #subscriptions = new Map<string, Subscription>();
  readonly #bus = new Set<BusListener>();
  readonly #client: IpcClient;
  #closing: Promise<void> | undefined;

  constructor(options: ClusterBrokerOptions = {}) {
    this.#client = new IpcClient({ port: options.port, timeoutMs: options.timeoutMs, onPush: (message) => this.#onPush(message) });
  }

  async subscribe(sessionId: string, onEvent: SseEventListener): Promise<void> {
    if (this.#closing) throw new ClusterIpcError('MCP_CLUSTER_IPC_CLOSED', 'ClusterBroker is closed');
    const mine: Subscription = { listener: onEvent, token: randomUUID() };
    const previous = this.#subscriptions.get(sessionId);
    // Same order as MemoryBroker: the new listener is in place before the old one hears its end.
    // Deliveries still addressed to the old subscription reach the new one: the primary will
    // route to it as soon as our registration, already on its way, lands.
    this.#subscriptions.set(sessionId, mine);
    previous?.listener(TAKEOVER);
    try {
      // Resolves once the primary registered us (and told any other holder it was taken over).
      await this.#client.request('broker.subscribe', { sessionId, origin: this.#origin, token: mine.token });
    } catch (error) {
      if (this.#subscriptions.get(sessionId) === mine) this.#subscriptions.delete(sessionId);
      // A timeout does not mean the registration never landed: withdraw it, best effort.
      this.#withdraw(sessionId, mine.token);
      throw error;
    }
  }

  async unsubscribe(sessionId: string, listener?: SseEventListener): Promise<void> {
    const current = this.#subscriptions.get(sessionId);
    // A stream closing late must not detach the one that took over.
    if (!current || (listener && current.listener !== listener)) return;
    this.#subscriptions.delete(sessionId);
    await this.#client.request('broker.unsubscribe', { sessionId, origin: this.#origin, token: current.token });
  }

  publish(sessionId: string, event: SseEvent): Promise<boolean> {
    // Always through the primary, even for a session held here: only it knows whether a takeover
    // from another worker is already on its way to us.
    return this.#client.request('broker.publish', { sessionId, event });
  }

  hasSubscriber(sessionId: string): Promise<boolean> {
    return this.#client.request('broker.hasSubscriber', { sessionId });
  }

  broadcast(message: BusMessage): Promise<void> {
    return this.#client.request('broker.broadcast', { message });
  }

  async onBroadcast(listener: BusListener): Promise<void> {
    const first = this.#bus.size === 0;
    this.#bus.add(listener);
    if (first) await this.#client.request('broker.listen', {});
  }

  close(): Promise<void> {
    return (this.#closing ??= (async () => {
      this.#subscriptions.clear();
      this.#bus.clear();
      try {
        // Until the primary answers, deliveries it already sent keep arriving: they are answered
        // (not delivered) by #onPush, so no publisher waits on us for nothing.
        await this.#client.request('broker.close', { origin: this.#origin });
      } catch (error) {
        // Without a primary there is nothing to detach from.
        if (!(error instanceof ClusterIpcError && error.code === 'MCP_CLUSTER_IPC_DISCONNECTED')) throw error;
      } finally {
        this.#client.close();
      }
    })());
  }

  #onPush(message: PushMessage): void {
    if (message.kind === 'bus') {
      for (const listener of this.#bus) deliverSafely(listener, message.message);
      return;
    }
    if (message.kind === 'topic') return; // the subscription broker's
    if (message.origin !== this.#origin) return; // another broker of this worker
    const { sessionId } = message;
    const current = this.#subscriptions.get(sessionId);
    if (message.kind === 'takeover') {
      // A token we no longer hold was already replaced here, and its listener already ended.
      if (!current || current.token !== message.token) return;
      this.#subscriptions.delete(sessionId);
      deliverSafely(current.listener, TAKEOVER);
      return;
    }
    if (!current) {
      this.#client.post({ kind: 'delivered', deliveryId: message.deliveryId, delivered: false });
      return;
    }
    if (message.event.type === 'end') {
      // An end event detaches the listener. The primary dropped the subscription it knew of; a
      // newer one of ours may still be on its way there, so withdraw it too.
      this.#subscriptions.delete(sessionId);
      this.#withdraw(sessionId, current.token);
    }
    deliverSafely(current.listener, message.event);
    this.#client.post({ kind: 'delivered', deliveryId: message.deliveryId, delivered: true });
  }

  #withdraw(sessionId: string, token: string): void {
    this.#client.request('broker.unsubscribe', { sessionId, origin: this.#origin, token }).catch(() => {});
  }
}
