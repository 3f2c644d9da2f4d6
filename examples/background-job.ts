// A background job (a queue consumer, a cron) that is not an HTTP worker: it reports progress to
// an MCP client's session through Redis, wherever in the cluster that session's stream is held.
//
//   REDIS_URL=redis://127.0.0.1:6379 npm start -- --workers 2           # the servers
//   REDIS_URL=redis://127.0.0.1:6379 npx tsx examples/background-job.ts <session-id> [steps]
//
// The job needs only the Redis URL and the servers' --channel-prefix (MCP_CHANNEL_PREFIX).

import { setTimeout as delay } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { createNotifier } from 'mcp-cluster';

const [sessionId, stepsArg] = process.argv.slice(2);
const url = process.env.REDIS_URL;
if (!sessionId || !url) {
  console.error('usage: REDIS_URL=redis://... npx tsx examples/background-job.ts <session-id> [steps]');
  process.exit(2);
}
const steps = Number(stepsArg ?? 5);

// The job owns its connection: the notifier only borrows it.
const redis = new Redis(url, { connectionName: 'mcp-cluster:example-job' });
const notifier = createNotifier({ redis, channelPrefix: process.env.MCP_CHANNEL_PREFIX ?? 'mcp' });
try {
  for (let step = 1; step <= steps; step++) {
    await delay(200); // the job's real work
    const delivered = await notifier.notify(sessionId, {
      method: 'notifications/message',
      params: { level: 'info', logger: 'build', data: { step, of: steps } },
    });
    // false: no stream was attached. The notifier publishes directly (nothing is retained for
    // replay), so a job that must not lose an update retries it later.
    console.log(`step ${step}/${steps}: ${delivered ? 'delivered' : 'no stream attached'}`);
  }
} finally {
  await redis.quit();
}
