// The real CLI with several workers, on one of the two multi-worker backends: Redis (a
// redis-server the test owns, under a channel prefix of its own) or the primary's IPC hub.

import { randomUUID } from 'node:crypto';
import { startCli, type RunningCli } from './cli.ts';
import { RedisClients, startRedis, type RedisHandle } from './redis.ts';

export type ClusterMode = 'redis' | 'cluster';

export interface ClusterUnderTest {
  cli: RunningCli;
  /** Redis mode only. */
  redis: RedisHandle | undefined;
  /** Redis mode only: clients the test may create, all closed by stop(). */
  clients: RedisClients | undefined;
  /** The channel prefix (Redis mode). */
  prefix: string;
  stop(): Promise<void>;
}

export async function startClusterUnderTest(mode: ClusterMode, workers: number, extraArgs: string[] = []): Promise<ClusterUnderTest> {
  const prefix = `t${randomUUID().slice(0, 8)}`;
  const args = ['--workers', String(workers), '--shutdown-timeout', '2000', ...extraArgs];
  let redis: RedisHandle | undefined;
  let clients: RedisClients | undefined;
  if (mode === 'redis') {
    redis = await startRedis();
    clients = new RedisClients(redis.url);
    args.push('--redis-url', redis.url, '--channel-prefix', prefix);
  }
  const cli = await startCli(args);
  return {
    cli,
    redis,
    clients,
    prefix,
    async stop() {
      await cli.stop();
      await clients?.closeAll();
      await redis?.stop();
    },
  };
}
