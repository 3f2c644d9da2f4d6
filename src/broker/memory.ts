// One-process broker: a map from session id to its one listener.

import type { BusListener, BusMessage, SseBroker, SseEvent, SseEventListener } from './broker.ts';

export class MemoryBroker implements SseBroker {
  readonly #listeners = new Map<string, SseEventListener>();
  readonly #bus = new Set<BusListener>();

  async subscribe(sessionId: string, onEvent: SseEventListener): Promise<void> {
    const previous = this.#listeners.get(sessionId);
    // Register the new listener before ending the old one so that a publish issued from the old
    // stream's end handler already reaches the new one.
    this.#listeners.set(sessionId, onEvent);
    previous?.({ type: 'end', reason: 'takeover' });
  }

  async unsubscribe(sessionId: string, listener?: SseEventListener): Promise<void> {
    if (listener && this.#listeners.get(sessionId) !== listener) return;
    this.#listeners.delete(sessionId);
  }

  async publish(sessionId: string, event: SseEvent): Promise<boolean> {
    const listener = this.#listeners.get(sessionId);
    if (!listener) return false;
    // An end event detaches the listener: it is no longer the session's subscriber.
    if (event.type === 'end') this.#listeners.delete(sessionId);
    listener(event);
    return true;
  }

  async hasSubscriber(sessionId: string): Promise<boolean> {
    return this.#listeners.has(sessionId);
  }

  async broadcast(message: BusMessage): Promise<void> {
    for (const listener of this.#bus) listener(message);
  }

  async onBroadcast(listener: BusListener): Promise<void> {
    this.#bus.add(listener);
  }

  async close(): Promise<void> {
    this.#listeners.clear();
    this.#bus.clear();
  }
}
