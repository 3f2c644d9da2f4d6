// Replay buffer on Redis Streams, shared by every worker of every host:
//   <prefix>:replay:<sessionId>:<streamId>   a stream of events (field `m`: the JSON message),
//                                            ids 0-1, 0-2, ... (XADD 0-*: dense per stream),
//                                            exact MAXLEN, TTL refreshed on every append
//   <prefix>:replay-streams:<sessionId>      the session's stream ids, so DELETE can forget them
// With a RedisBroker on the same Redis and prefix, appending and publishing is one script, one
// round trip: no event is ever published without being retained first.

import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { SseBroker } from '../broker/broker.ts';
import { RedisBroker } from '../broker/redis.ts';
import { sessionChannelPrefix } from '../broker/redis-wire.ts';
import type { JsonRpcMessage } from '../mcp/jsonrpc.ts';
import { formatEventId, parseEventId, type ReplayBuffer, type ReplayEntry, type ReplayOutcome } from './replay.ts';

export interface RedisReplayBufferOptions {
  /** A normal-mode connection. Borrowed: never closed here. */
  redis: Redis;
  /** Key and channel prefix; must match the broker's `channelPrefix`. Default `mcp`. */
  keyPrefix?: string;
  /** Events retained per stream (exact). Default 1000. */
  maxLength?: number;
  /** A stream with no append for this long expires. Default 5 minutes. */
  ttlMs?: number;
}

// KEYS: stream, session's stream set. ARGV: message, maxLength, ttl, streamId, channel ('' for
// none), then the broker wire message split around the event's seq.
const APPEND_SCRIPT = `
local id = redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[2], '0-*', 'm', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('SADD', KEYS[2], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
local seq = string.sub(id, 3)
local receivers = 0
if ARGV[5] ~= '' then receivers = redis.call('PUBLISH', ARGV[5], ARGV[6] .. seq .. ARGV[7]) end
return {seq, receivers}
`;

type StreamEntries = Array<[string, string[]]>;

interface ReplayRedis extends Redis {
  mcpReplayAppend(
    stream: string,
    set: string,
    message: string,
    maxLength: number,
    ttlMs: number,
    streamId: string,
    channel: string,
    wireHead: string,
    wireTail: string,
  ): Promise<[string, number]>;
}

export class RedisReplayBuffer implements ReplayBuffer {
  readonly #redis: ReplayRedis;
  readonly #prefix: string;
  readonly #channelPrefix: string;
  readonly #maxLength: number;
  readonly #ttlMs: number;
  readonly #origin = `replay:${randomUUID()}`;

  constructor(options: RedisReplayBufferOptions) {
    const prefix = options.keyPrefix ?? 'mcp';
    this.#prefix = prefix;
    this.#channelPrefix = sessionChannelPrefix(prefix);
    this.#maxLength = options.maxLength ?? 1000;
    this.#ttlMs = options.ttlMs ?? 5 * 60_000;
    const redis = options.redis as ReplayRedis;
    // defineCommand runs EVALSHA and falls back to EVAL when Redis lost its script cache.
    if (typeof redis.mcpReplayAppend !== 'function') redis.defineCommand('mcpReplayAppend', { numberOfKeys: 2, lua: APPEND_SCRIPT });
    this.#redis = redis;
  }

  async append(sessionId: string, streamId: string, message: JsonRpcMessage): Promise<string> {
    const [seq] = await this.#append(sessionId, streamId, message, '', '', '');
    return formatEventId(streamId, Number(seq));
  }

  /**
   * Whether `appendAndPublish` reaches the subscribers of `broker`: a RedisBroker with our prefix
   * (on the same Redis: the worker's backends guarantee it; a library user must).
   */
  publishesTo(broker: SseBroker): boolean {
    return broker instanceof RedisBroker && broker.channel('') === this.#channelPrefix;
  }

  /** Retains the message and publishes it with its event id on `brokerKey`'s channel, in one round trip. */
  async appendAndPublish(sessionId: string, streamId: string, brokerKey: string, message: JsonRpcMessage): Promise<{ id: string; delivered: boolean }> {
    const head = `{"type":"event","origin":${JSON.stringify(this.#origin)},"event":{"type":"message","id":"${streamId}/`;
    const tail = `","message":${JSON.stringify(message)}}}`;
    const [seq, receivers] = await this.#append(sessionId, streamId, message, this.#channelPrefix + brokerKey, head, tail);
    return { id: formatEventId(streamId, Number(seq)), delivered: receivers > 0 };
  }

  async replayAfter(sessionId: string, lastEventId: string, send: (entry: ReplayEntry) => void): Promise<ReplayOutcome> {
    const parsed = parseEventId(lastEventId);
    if (!parsed) return { status: 'unknown' };
    const key = this.#streamKey(sessionId, parsed.streamId);
    const replies = await this.#redis
      .pipeline()
      .xrevrange(key, '+', '-', 'COUNT', 1)
      .xrange(key, `(0-${parsed.seq}`, '+')
      .exec();
    const [newestErr, newest] = replies![0]!;
    const [rangeErr, range] = replies![1]!;
    if (newestErr) throw newestErr;
    if (rangeErr) throw rangeErr;
    const last = (newest as StreamEntries)[0];
    // `<stream>/0` is a priming id: a stream with nothing retained yet is simply empty.
    if (!last) return parsed.seq === 0 ? { status: 'complete', streamId: parsed.streamId } : { status: 'unknown' };
    if (parsed.seq > seqOf(last[0])) return { status: 'unknown' };
    const entries = range as StreamEntries;
    for (const [id, fields] of entries) {
      send({ id: formatEventId(parsed.streamId, seqOf(id)), message: JSON.parse(fields[1]!) as JsonRpcMessage });
    }
    const first = entries[0];
    const gap = first !== undefined && seqOf(first[0]) > parsed.seq + 1;
    return { status: gap ? 'gap' : 'complete', streamId: parsed.streamId };
  }

  async tail(sessionId: string, streamId: string): Promise<string> {
    const newest = (await this.#redis.xrevrange(this.#streamKey(sessionId, streamId), '+', '-', 'COUNT', 1)) as StreamEntries;
    return formatEventId(streamId, newest[0] ? seqOf(newest[0][0]) : 0);
  }

  async forget(sessionId: string): Promise<void> {
    const setKey = this.#setKey(sessionId);
    const streamIds = await this.#redis.smembers(setKey);
    await this.#redis.del(setKey, ...streamIds.map((streamId) => this.#streamKey(sessionId, streamId)));
  }

  async close(): Promise<void> {}

  #append(sessionId: string, streamId: string, message: JsonRpcMessage, channel: string, head: string, tail: string) {
    return this.#redis.mcpReplayAppend(
      this.#streamKey(sessionId, streamId),
      this.#setKey(sessionId),
      JSON.stringify(message),
      this.#maxLength,
      this.#ttlMs,
      streamId,
      channel,
      head,
      tail,
    );
  }

  #streamKey(sessionId: string, streamId: string): string {
    return `${this.#prefix}:replay:${sessionId}:${streamId}`;
  }

  #setKey(sessionId: string): string {
    return `${this.#prefix}:replay-streams:${sessionId}`;
  }
}

function seqOf(entryId: string): number {
  return Number(entryId.slice(entryId.indexOf('-') + 1));
}
