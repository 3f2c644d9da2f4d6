// Tasks in Redis, readable by every worker of every host: one key per task holding its JSON,
// with the task's TTL; compare-and-set is one script (GET, compare version, SET KEEPTTL).

import type { Redis } from 'ioredis';
import type { TaskRecord, TaskStore } from './store.ts';

const COMPARE_AND_SET = `
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
if tonumber(cjson.decode(current)['version']) ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return 1
`;

/** The client with the compare-and-set script defined on it (defineCommand: EVALSHA, EVAL fallback). */
interface TaskRedis extends Redis {
  mcpTaskCompareAndSet(key: string, expectedVersion: string, record: string): Promise<number>;
}

export interface RedisTaskStoreOptions {
  /** A connected client; borrowed, never closed here. */
  redis: Redis;
  /** Same prefix as the deployment's channels. Default `mcp`. */
  keyPrefix?: string;
}

export class RedisTaskStore implements TaskStore {
  readonly #redis: TaskRedis;
  readonly #prefix: string;

  constructor(options: RedisTaskStoreOptions) {
    const redis = options.redis as TaskRedis;
    if (typeof redis.mcpTaskCompareAndSet !== 'function') redis.defineCommand('mcpTaskCompareAndSet', { numberOfKeys: 1, lua: COMPARE_AND_SET });
    this.#redis = redis;
    this.#prefix = `${options.keyPrefix ?? 'mcp'}:task:`;
  }

  async create(record: TaskRecord): Promise<void> {
    await this.#redis.set(this.#prefix + record.taskId, JSON.stringify(record), 'PX', record.ttlMs);
  }

  async get(taskId: string): Promise<TaskRecord | undefined> {
    const raw = await this.#redis.get(this.#prefix + taskId);
    return raw === null ? undefined : (JSON.parse(raw) as TaskRecord);
  }

  async compareAndSet(taskId: string, expectedVersion: number, record: TaskRecord): Promise<boolean> {
    return (await this.#redis.mcpTaskCompareAndSet(this.#prefix + taskId, String(expectedVersion), JSON.stringify(record))) === 1;
  }

  async close(): Promise<void> {
    // The client is borrowed.
  }
}
