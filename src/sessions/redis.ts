// Session store in Redis, so every worker of every host sees every session:
//   <prefix>:session:<id>        hash, one JSON-encoded value per SessionRecord field, idle TTL
//   <prefix>:session-uris:<id>   set of the uris the session subscribed to (same TTL), so delete
//                                can find them
//   <prefix>:subs:<uri>          set of the session ids subscribed to the uri (no TTL: members of
//                                expired sessions are pruned when read)
// Scripts touch keys they build from ARGV, which is fine on one Redis but not on Redis Cluster.

import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { SessionPatch, SessionRecord, SessionStore } from './store.ts';

export interface RedisSessionStoreOptions {
  /** Borrowed: never closed here. */
  redis: Redis;
  /** Keeps deployments that share a Redis apart. Default `mcp`. */
  keyPrefix?: string;
  /** A session unused this long expires. Default 1 hour. */
  idleTimeoutMs?: number;
}

class LuaScript {
  readonly sha: string;
  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }
}

// Applies field changes and pushes back expiry, only for a session that still exists: HSET on an
// expired session would resurrect it as a partial hash. ARGV: ttl, then field/value pairs where
// an empty value deletes the field (encoded values are never empty).
const REFRESH = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 2, #ARGV, 2 do
  if ARGV[i + 1] == '' then redis.call('HDEL', KEYS[1], ARGV[i])
  else redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return 1
`);

// Atomic, so a subscribe racing the delete cannot leave the session in a uri's set.
const DELETE = new LuaScript(`
for _, uri in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  redis.call('SREM', ARGV[1] .. uri, ARGV[2])
end
redis.call('DEL', KEYS[2])
return redis.call('DEL', KEYS[1])
`);

// Sessions that expired (rather than being deleted) are still members: drop them as we go.
const LIVE_SUBSCRIBERS = new LuaScript(`
local live = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[1] .. id) == 1 then live[#live + 1] = id
  else redis.call('SREM', KEYS[1], id) end
end
return live
`);

export class RedisSessionStore implements SessionStore {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #idleTimeoutMs: number;

  constructor(options: RedisSessionStoreOptions) {
    this.#redis = options.redis;
    this.#prefix = options.keyPrefix ?? 'mcp';
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 60 * 60 * 1000;
  }

  async create(record: SessionRecord): Promise<void> {
    const key = this.#sessionKey(record.id);
    const fields: string[] = [];
    for (const [field, value] of Object.entries(record)) {
      if (value !== undefined) fields.push(field, JSON.stringify(value));
    }
    // DEL first: creating over an existing id replaces the record, it does not merge into it.
    await exec(
      this.#redis
        .multi()
        .del(key)
        .hset(key, ...fields)
        .pexpire(key, this.#idleTimeoutMs)
        .pexpire(this.#urisKey(record.id), this.#idleTimeoutMs),
    );
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const hash = await this.#redis.hgetall(this.#sessionKey(id));
    if (Object.keys(hash).length === 0) return undefined;
    const record: Record<string, unknown> = {};
    for (const [field, value] of Object.entries(hash)) record[field] = JSON.parse(value);
    return record as unknown as SessionRecord;
  }

  async update(id: string, patch: SessionPatch): Promise<void> {
    const pairs: string[] = [];
    for (const [field, value] of Object.entries(patch)) {
      pairs.push(field, value === undefined ? '' : JSON.stringify(value));
    }
    await this.#refresh(id, pairs);
  }

  async touch(id: string): Promise<void> {
    await this.#refresh(id, ['lastSeenAt', JSON.stringify(Date.now())]);
  }

  async delete(id: string): Promise<boolean> {
    const removed = await this.#run(DELETE, [this.#sessionKey(id), this.#urisKey(id)], [this.#subsKey(''), id]);
    return Number(removed) > 0;
  }

  async subscribeResource(id: string, uri: string): Promise<void> {
    await exec(
      this.#redis
        .multi()
        .sadd(this.#subsKey(uri), id)
        .sadd(this.#urisKey(id), uri)
        .pexpire(this.#urisKey(id), this.#idleTimeoutMs),
    );
  }

  async unsubscribeResource(id: string, uri: string): Promise<void> {
    await exec(this.#redis.multi().srem(this.#subsKey(uri), id).srem(this.#urisKey(id), uri));
  }

  async subscribersOf(uri: string): Promise<string[]> {
    return (await this.#run(LIVE_SUBSCRIBERS, [this.#subsKey(uri)], [this.#sessionKey('')])) as string[];
  }

  async close(): Promise<void> {
    // Nothing to release: no timers (Redis expires keys itself), and the client is borrowed.
  }

  #sessionKey(id: string): string {
    return `${this.#prefix}:session:${id}`;
  }

  #urisKey(id: string): string {
    return `${this.#prefix}:session-uris:${id}`;
  }

  #subsKey(uri: string): string {
    return `${this.#prefix}:subs:${uri}`;
  }

  async #refresh(id: string, pairs: string[]): Promise<void> {
    await this.#run(REFRESH, [this.#sessionKey(id), this.#urisKey(id)], [String(this.#idleTimeoutMs), ...pairs]);
  }

  /** EVALSHA, falling back to EVAL once per server (after which the script is cached there). */
  async #run(script: LuaScript, keys: string[], args: string[]): Promise<unknown> {
    try {
      return await this.#redis.evalsha(script.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return await this.#redis.eval(script.source, keys.length, ...keys, ...args);
    }
  }
}

type Multi = ReturnType<Redis['multi']>;

/** Runs a MULTI and fails on the first command error (ioredis reports them per command). */
async function exec(multi: Multi): Promise<void> {
  const results = await multi.exec();
  if (!results) throw new Error('Redis transaction was aborted');
  for (const [error] of results) if (error) throw error;
}
