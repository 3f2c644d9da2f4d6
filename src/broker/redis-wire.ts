// The wire format of Redis session channels, shared by RedisBroker and createNotifier so that a
// process with only a Redis URL publishes exactly what a worker would.

import type { SseEvent } from './broker.ts';

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
  | { type: 'takeover'; origin: string; token: string };

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
  return undefined; // untagged: not a broker message
}

function isSseEvent(value: unknown): value is SseEvent {
  if (typeof value !== 'object' || value === null) return false;
  const event = value as Record<string, unknown>;
  if (event.type === 'message') return typeof event.message === 'object' && event.message !== null;
  return event.type === 'end' && typeof event.reason === 'string';
}

