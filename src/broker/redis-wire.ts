// The wire format of Redis session channels, shared by RedisBroker and createNotifier so that a
// process with only a Redis URL publishes exactly what a worker would.

import type { BusMessage, SseEvent } from './broker.ts';

/** `<prefix>:sse:`: prepend to a session id to get its channel. */
export function sessionChannelPrefix(channelPrefix = 'mcp'): string {
  return `${channelPrefix}:sse:`;
}

/**
 * What travels on a session channel. Tagged with a type and the sending broker so that a stray
 * PUBLISH on the channel is ignored, and so that a broker recognizes its own takeover echo.
 */
export type WireMessage =
  | { type: 'event'; origin: string; event: SseEvent }
  | { type: 'takeover'; origin: string; token: string }
  | { type: 'bus'; origin: string; message: BusMessage };

/** `<prefix>:bus`: the cluster-wide control channel every process subscribes to. */
export function busChannel(channelPrefix = 'mcp'): string {
  return `${channelPrefix}:bus`;
}

export function encode(message: WireMessage): string {
  return JSON.stringify(message);
}

export function decode(raw: string): WireMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const message = value as Record<string, unknown>;
  if (typeof message.origin !== 'string') return undefined;
  if (message.type === 'takeover' && typeof message.token === 'string') return message as WireMessage;
  if (message.type === 'event' && isSseEvent(message.event)) return message as WireMessage;
  if (message.type === 'bus' && isBusMessage(message.message)) return message as WireMessage;
  return undefined; // untagged: not a broker message
}

function isSseEvent(value: unknown): value is SseEvent {
  if (typeof value !== 'object' || value === null) return false;
  const event = value as Record<string, unknown>;
  if (event.type === 'message') return typeof event.message === 'object' && event.message !== null;
  return event.type === 'end' && typeof event.reason === 'string';
}


export function isBusMessage(value: unknown): value is BusMessage {
  if (typeof value !== 'object' || value === null) return false;
  const message = value as Record<string, unknown>;
  if (message.type === 'notify-sessions') return typeof message.message === 'object' && message.message !== null;
  if (message.type === 'session-changed') return typeof message.sessionId === 'string';
  if (message.type === 'task-changed') return typeof message.taskId === 'string';
  return message.type === 'cancel' && typeof message.reason === 'string' && ['string', 'number'].includes(typeof message.requestId);
}
