// The examples/ run as users run them: the minimal app serves an MCP client, the background job
// reaches a session's stream through Redis, and the custom broker passes the shared contract.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { InProcessPubSub, PubSubBroker } from '../../examples/custom-broker.ts';
import { brokerContract } from '../broker/contract.ts';
import { startCli, type RunningCli } from '../helpers/cli.ts';
import { connectClient } from '../helpers/mcp-client.ts';
import { messageData, RawSession } from '../helpers/raw-session.ts';
import { startRedis, type RedisHandle } from '../helpers/redis.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** `npx tsx examples/<name>`, without npx's own start-up. */
function runExample(name: string, args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', `examples/${name}`, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

describe('examples/minimal.ts', () => {
  let child: ChildProcess;
  let url: string;
  before(async () => {
    child = runExample('minimal.ts', [], { PORT: '0' });
    const lines = createInterface({ input: child.stdout! });
    const [line] = (await Promise.race([
      once(lines, 'line'),
      once(child, 'exit').then(([code]) => Promise.reject(new Error(`minimal.ts exited with ${code}`))),
    ])) as [string];
    url = /listening on (http:\/\/\S+\/mcp)/.exec(line)![1]!;
  });
  after(async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });

  test('serves the echo tool to the official SDK client, and its metrics', async () => {
    const c = await connectClient(url);
    try {
      const result = await c.client.callTool({ name: 'echo', arguments: { text: 'hi' } });
      assert.deepEqual(result.content, [{ type: 'text', text: 'hi' }]);
    } finally {
      await c.close();
    }
    const metrics = await (await fetch(url.replace('/mcp', '/metrics'))).text();
    assert.match(metrics, /^mcp_sessions_opened_total 1$/m);
    assert.match(metrics, /^mcp_request_duration_seconds_count\{method="tools\/call"\} 1$/m);
  });
});

describe('examples/background-job.ts', () => {
  let redis: RedisHandle;
  let cli: RunningCli;
  const prefix = `job${process.pid}`;
  before(async () => {
    redis = await startRedis();
    cli = await startCli(['--redis-url', redis.url, '--channel-prefix', prefix]);
  });
  after(async () => {
    await cli?.stop();
    await redis?.stop();
  });

  test("notifies a session's stream through Redis and reports each delivery", async () => {
    const session = new RawSession(cli.url);
    await session.open();
    const stream = await session.openStream();
    try {
      const job = runExample('background-job.ts', [session.sessionId, '2'], { REDIS_URL: redis.url, MCP_CHANNEL_PREFIX: prefix });
      let stdout = '';
      job.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      const [code] = (await once(job, 'exit')) as [number];
      assert.equal(code, 0);
      assert.deepEqual(stdout.trim().split('\n'), ['step 1/2: delivered', 'step 2/2: delivered']);
      await stream.waitFor(() => stream.events.length >= 2);
      assert.deepEqual(
        stream.events.map((event) => (messageData(event).params as { data: unknown }).data),
        [{ step: 1, of: 2 }, { step: 2, of: 2 }],
      );
    } finally {
      await stream.close();
    }
  });
});

brokerContract('examples/custom-broker.ts (PubSubBroker over one bus)', async () => {
  const bus = new InProcessPubSub();
  const brokers: [PubSubBroker, PubSubBroker] = [new PubSubBroker(bus), new PubSubBroker(bus)];
  return {
    brokers,
    async cleanup() {
      await Promise.all(brokers.map((broker) => broker.close()));
    },
  };
});
