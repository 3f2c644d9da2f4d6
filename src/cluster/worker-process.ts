// Entry of a node:cluster worker: start the worker, tell the primary where it listens, and drain
// when the primary (or a signal) says so.

import type { Config } from '../config/config.ts';
import { isLifecycleMessage, listening } from './lifecycle-messages.ts';
import { startWorker } from './worker.ts';

export async function runClusterWorker(config: Config): Promise<void> {
  const workerId = process.env.MCP_WORKER_ID ?? `w${process.pid}`;
  const worker = await startWorker(config, workerId, { cluster: true });
  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    worker.logger.info({ why }, 'worker draining');
    await worker.close();
    process.exit(0);
  };
  process.on('message', (message: unknown) => {
    if (isLifecycleMessage(message) && message.type === 'shutdown') void stop('primary');
  });
  process.once('SIGTERM', () => void stop('SIGTERM'));
  // Ctrl-C reaches the whole process group: drain like the primary asked us to.
  process.once('SIGINT', () => void stop('SIGINT'));
  // Without a primary there is nobody to route to or restart us: leave.
  process.once('disconnect', () => void stop('primary gone'));
  process.send?.(listening(worker.url, worker.backend));
}
