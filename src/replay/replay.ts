// The replay buffer contract: opt-in retention of the messages written to SSE streams, so that a
// client reconnecting with Last-Event-ID to ANY worker receives what it missed, in order, once.
// Implementations: memory.ts (one process), redis.ts (Redis Streams), cluster.ts (the primary).
//
// Event ids encode their stream: `<streamId>/<seq>`, seq counting 1, 2, 3... per stream, so a
// resume lands on the right stream and a gap (evicted events) is detectable. Streams are scoped
// to their session: an id is only ever looked up within the session that presents it.

import type { SseBroker } from '../broker/broker.ts';
import type { JsonRpcMessage } from '../mcp/jsonrpc.ts';

export interface ReplayEntry {
  id: string;
  message: JsonRpcMessage;
}

export type ReplayOutcome =
  /** Every retained event after the id was sent; nothing was missing. */
  | { status: 'complete'; streamId: string }
  /** Events after the id were evicted (length bound or TTL); what is still retained was sent. */
  | { status: 'gap'; streamId: string }
  /** The id is malformed, or names no stream of this session (never existed, or expired). */
  | { status: 'unknown' };

export interface ReplayBuffer {
  /** Retains `message` as the next event of the stream; resolves to its event id. */
  append(sessionId: string, streamId: string, message: JsonRpcMessage): Promise<string>;
  /** Sends, in order, every retained event of the id's stream that comes after it. */
  replayAfter(sessionId: string, lastEventId: string, send: (entry: ReplayEntry) => void): Promise<ReplayOutcome>;
  /** The id of the stream's newest event, or `<streamId>/0` before its first: a resume point. */
  tail(sessionId: string, streamId: string): Promise<string>;
  /** Forgets a session's streams (DELETE). */
  forget(sessionId: string): Promise<void>;
  /** Releases timers; never closes a connection it was given. */
  close(): Promise<void>;
  /**
   * Optional fast path: whether `appendAndPublish` reaches the subscribers of `broker` itself
   * (same Redis and prefix, or the same cluster hub).
   */
  publishesTo?(broker: SseBroker): boolean;
  /** Retains the message, then publishes it with its id on `brokerKey`, in one round trip. */
  appendAndPublish?(sessionId: string, streamId: string, brokerKey: string, message: JsonRpcMessage): Promise<{ id: string; delivered: boolean }>;
}

/**
 * Retains a message on a stream, then publishes it with its event id to whoever holds the stream.
 * Retained first: an event is never delivered without being replayable.
 */
export async function publishRetained(
  replay: ReplayBuffer,
  broker: SseBroker,
  sessionId: string,
  streamId: string,
  message: JsonRpcMessage,
): Promise<{ id: string; delivered: boolean }> {
  const brokerKey = streamBrokerKey(sessionId, streamId);
  if (replay.appendAndPublish && replay.publishesTo?.(broker)) {
    return replay.appendAndPublish(sessionId, streamId, brokerKey, message);
  }
  const id = await replay.append(sessionId, streamId, message);
  const delivered = await broker.publish(brokerKey, { type: 'message', message, id });
  return { id, delivered };
}

/** The session's standalone (GET) stream; POST response streams get `p<random>` ids. */
export const GET_STREAM_ID = 'g';

export interface ParsedEventId {
  streamId: string;
  seq: number;
}

const EVENT_ID = /^([A-Za-z0-9_-]{1,64})\/(\d{1,15})$/;

export function formatEventId(streamId: string, seq: number): string {
  return `${streamId}/${seq}`;
}

export function parseEventId(id: string): ParsedEventId | undefined {
  const match = EVENT_ID.exec(id);
  if (!match) return undefined;
  return { streamId: match[1]!, seq: Number(match[2]) };
}

/** The broker key a stream's live events travel on: the session id for the GET stream. */
export function streamBrokerKey(sessionId: string, streamId: string): string {
  return streamId === GET_STREAM_ID ? sessionId : `${sessionId}/${streamId}`;
}
