// The mcp-cluster command: parses the configuration, then runs one worker in this process or a
// node:cluster primary that forks N workers.

import cluster from 'node:cluster';
import { ConfigError, helpText, loadConfig, type Config } from '../config/config.ts';
import { RedisUnavailableError } from '../cluster/redis-clients.ts';
import { startWorker } from '../cluster/worker.ts';

function fail(message: string, code: number): never {
  process.stderr.write(`mcp-cluster: ${message}\n`);
  process.exit(code);
}

async function runSingle(config: Config): Promise<void> {
  const worker = await startWorker(config, 'w1');
  worker.logger.info(
    { url: worker.url, workers: 1, broker: worker.backend },
    `mcp-cluster listening on ${worker.url} (workers: 1, broker: ${worker.backend})`,
  );
  const stop = async (signal: string) => {
    worker.logger.info({ signal }, 'shutting down');
    await worker.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${helpText()}\n`);
    return;
  }
  let config: Config;
  try {
    config = loadConfig(argv);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message, 2);
    throw err;
  }
  try {
    if (cluster.isPrimary && config.workers > 1) {
      const { runPrimary } = await import('../cluster/primary.ts');
      await runPrimary(config);
    } else if (cluster.isWorker) {
      const { runClusterWorker } = await import('../cluster/worker-process.ts');
      await runClusterWorker(config);
    } else {
      await runSingle(config);
    }
  } catch (err) {
    if (err instanceof RedisUnavailableError) fail(err.message, 1);
    if (err instanceof Error && 'code' in err && err.code === 'EADDRINUSE') fail(`port ${config.port} is already in use`, 1);
    throw err;
  }
}

await main();
