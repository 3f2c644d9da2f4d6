// The node:cluster primary: forks N HTTP workers that share the port, restarts a crashed one
// with backoff (and gives up on a crash loop), replaces them one at a time on SIGHUP, and on
// SIGTERM/SIGINT asks every worker to drain and exits once they have.

import cluster, { type Worker } from 'node:cluster';
import { randomBytes } from 'node:crypto';
import type { Config } from '../config/config.ts';
import { Counter } from 'prom-client';
import { createLogger } from '../log.ts';
import { attachMetricsAggregator } from '../metrics/cluster.ts';
import { backendKind } from './backends.ts';
import { isLifecycleMessage, shutdown } from './lifecycle-messages.ts';
import { closeRedis, connectRedis } from './redis-clients.ts';

const RESTART_BASE_DELAY_MS = 100;
const RESTART_MAX_DELAY_MS = 5_000;
/** More crashes than this within the window is a crash loop: stop instead of spinning. */
const CRASH_LOOP_LIMIT = 10;
const CRASH_LOOP_WINDOW_MS = 60_000;
/** Time a worker gets beyond its own drain deadline before it is killed. */
const KILL_GRACE_MS = 2_000;

export async function runPrimary(config: Config): Promise<void> {
  const logger = createLogger(config.logLevel, { role: 'primary' }, config.logFormat);
  const kind = backendKind(config);
  if (kind === 'redis') {
    // Fail fast with one line in the primary, rather than N workers each failing to start.
    await closeRedis(await connectRedis(config.redisUrl!, 'mcp-cluster:primary:probe'));
  }
  // Several workers without Redis: this process holds the sessions and routes stream messages.
  const hub = kind === 'cluster'
    ? (await import('./hub.ts')).attachClusterHub(cluster, {
        idleTimeoutMs: config.sessionIdleTimeoutMs,
        ...(config.replay ? { replay: { maxLength: config.replayMaxLength, ttlMs: config.replayTtlMs } } : {}),
      })
    : undefined;
  // Every mode, hub or Redis: a worker's /metrics is the sum over all workers, collected here.
  const metrics = attachMetricsAggregator(cluster);
  const restarts = new Counter({ name: 'mcp_worker_restarts_total', help: 'Workers restarted after an unexpected exit', registers: [metrics.registry] });

  // One requestState key for all workers, so an input round trip may continue on any of them.
  // With Redis the workers agree on one through Redis (hosts share it too).
  const stateSecret = kind === 'cluster' ? (config.stateSecret ?? randomBytes(32).toString('base64url')) : undefined;
  const slots = new Map<string, Worker>(); // worker id (w1..wN) -> current process
  const crashes: number[] = [];
  let stopping = false;
  let announced = false;

  const fork = (id: string): Promise<string> => {
    const worker = cluster.fork({ MCP_WORKER_ID: id, ...(stateSecret === undefined ? {} : { MCP_STATE_SECRET: stateSecret }) });
    slots.set(id, worker);
    return new Promise((resolve, reject) => {
      const onMessage = (message: unknown) => {
        if (isLifecycleMessage(message) && message.type === 'listening') {
          worker.off('message', onMessage);
          worker.off('exit', onEarlyExit);
          // Every start, restart and replacement: which process holds the slot now.
          // (`workerPid`: `pid` is the primary's own, bound to every line.)
          logger.info({ worker: id, workerPid: worker.process.pid }, 'worker listening');
          resolve(message.url);
        }
      };
      const onEarlyExit = (code: number | null) => reject(new Error(`worker ${id} exited with code ${code} before listening`));
      worker.on('message', onMessage);
      worker.once('exit', onEarlyExit);
      worker.once('exit', (code, signal) => onExit(id, worker, code, signal));
    });
  };

  const onExit = (id: string, worker: Worker, code: number | null, signal: string | null) => {
    if (slots.get(id) !== worker) return; // replaced on purpose (rolling restart)
    if (stopping) {
      slots.delete(id);
      return;
    }
    const now = Date.now();
    crashes.push(now);
    while (crashes.length > 0 && crashes[0]! < now - CRASH_LOOP_WINDOW_MS) crashes.shift();
    if (crashes.length > CRASH_LOOP_LIMIT) {
      logger.fatal({ crashes: crashes.length, windowMs: CRASH_LOOP_WINDOW_MS }, 'workers are crash-looping; stopping');
      void stopAll(1);
      return;
    }
    const delay = Math.min(RESTART_BASE_DELAY_MS * 2 ** (crashes.length - 1), RESTART_MAX_DELAY_MS);
    logger.error({ worker: id, code, signal, restartInMs: delay }, 'worker exited unexpectedly; restarting');
    restarts.inc();
    setTimeout(() => {
      if (!stopping) fork(id).catch((err: unknown) => logger.error({ err, worker: id }, 'restart failed'));
    }, delay);
  };

  const stopWorker = (worker: Worker): Promise<number | null> =>
    new Promise((resolve) => {
      if (worker.isDead()) return resolve(worker.process.exitCode);
      const killer = setTimeout(() => worker.process.kill('SIGKILL'), config.shutdownTimeoutMs + KILL_GRACE_MS);
      worker.once('exit', (code) => {
        clearTimeout(killer);
        resolve(code);
      });
      if (worker.isConnected()) worker.send(shutdown());
      else worker.process.kill('SIGTERM');
    });

  const stopAll = async (exitCode: number) => {
    if (stopping) return;
    stopping = true;
    logger.info({ workers: slots.size }, 'draining workers');
    const codes = await Promise.all([...slots.values()].map(stopWorker));
    const clean = codes.every((code) => code === 0);
    await hub?.detach();
    metrics.detach();
    logger.info({ codes }, 'all workers stopped');
    process.exit(exitCode !== 0 ? exitCode : clean ? 0 : 1);
  };

  const rollingRestart = async () => {
    logger.info('rolling restart');
    for (const [id, old] of [...slots]) {
      if (stopping) return;
      // The replacement listens before the old one drains: capacity never drops to zero.
      const replacement = fork(id);
      try {
        await replacement;
      } catch (err) {
        logger.error({ err, worker: id }, 'replacement failed; keeping the old worker');
        slots.set(id, old);
        continue;
      }
      await stopWorker(old);
    }
    logger.info('rolling restart done');
  };

  process.on('SIGTERM', () => void stopAll(0));
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGHUP', () => void rollingRestart());

  let urls: string[];
  try {
    urls = await Promise.all(Array.from({ length: config.workers }, (_, index) => fork(`w${index + 1}`)));
  } catch (err) {
    logger.fatal({ err }, 'a worker failed to start');
    stopping = true;
    for (const worker of slots.values()) worker.process.kill('SIGTERM');
    process.stderr.write(`mcp-cluster: ${(err as Error).message}\n`);
    process.exit(1);
  }
  const url = urls[0]!;
  if (!announced) {
    announced = true;
    logger.info(
      { url, workers: config.workers, broker: kind },
      `mcp-cluster listening on ${url} (workers: ${config.workers}, broker: ${kind})`,
    );
    // pm2 wait_ready: the app is up once every worker listens.
    process.send?.('ready');
  }
}
