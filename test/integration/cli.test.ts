// The CLI as users run it: one process, the demo app, a clean shutdown, and clear config errors.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { loadConfig } from '../../src/config/config.ts';
import { after, before, describe, test } from 'node:test';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { startCli, type RunningCli } from '../helpers/cli.ts';
import { connectClient } from '../helpers/mcp-client.ts';
import { eventually } from '../helpers/in-process.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

function runCli(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 20_000 });
}

describe('mcp-cluster CLI, one worker', () => {
  let cli: RunningCli;
  before(async () => {
    cli = await startCli(['--workers', '1']);
  });
  after(async () => {
    await cli.stop();
  });

  test('the start-up line names the URL, the workers and the broker', () => {
    assert.match(cli.lines[0]!, /listening on http:\/\/127\.0\.0\.1:\d+\/mcp \(workers: 1, broker: memory\)/);
  });

  test('the demo app serves its tools, a resource and a prompt', async () => {
    const c = await connectClient(cli.url);
    try {
      const { tools } = await c.client.listTools();
      assert.deepEqual(tools.map((tool) => tool.name).sort(), ['add', 'ask_name', 'broadcast', 'count_primes', 'countdown', 'echo', 'log_levels', 'notify', 'ticker', 'touch_resource', 'whoami']);
      const sum = await c.client.callTool({ name: 'add', arguments: { a: 2, b: 40 } });
      assert.deepEqual(sum.structuredContent, { sum: 42 });
      const progress: number[] = [];
      await c.client.callTool({ name: 'countdown', arguments: { steps: 3, intervalMs: 1 } }, undefined, {
        onprogress: (p) => progress.push(p.progress),
      });
      assert.deepEqual(progress, [1, 2, 3]);
      const { resources } = await c.client.listResources();
      assert.deepEqual(resources.map((r) => r.uri), ['demo://readme']);
      const prompt = await c.client.getPrompt({ name: 'greet', arguments: { name: 'Ada', style: 'formal' } });
      assert.deepEqual(prompt.messages[0]!.content, { type: 'text', text: 'Good day, Ada.' });
    } finally {
      await c.close();
    }
  });

  test("the notify tool reaches another session's GET stream and says whether it did", async () => {
    const sender = await connectClient(cli.url);
    const receiver = await connectClient(cli.url);
    try {
      const got: unknown[] = [];
      receiver.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
        got.push(n.params.data);
      });
      // The SDK opens its GET stream in the background after initialize: wait until it is attached.
      const result = await eventually(async () => {
        const r = await sender.client.callTool({ name: 'notify', arguments: { sessionId: receiver.sessionId, text: 'hello' } });
        return (r.structuredContent as { delivered: boolean }).delivered ? r : undefined;
      }, 10_000, 'delivered notify');
      assert.equal((result.structuredContent as { worker: string }).worker, 'w1');
      await eventually(() => got.length > 0, 5_000, 'notification');
      assert.deepEqual(got[0], { text: 'hello', from: 'w1' });
      const none = await sender.client.callTool({ name: 'notify', arguments: { sessionId: 'no-such-session', text: 'x' } });
      assert.deepEqual(none.structuredContent, { delivered: false, worker: 'w1' });
    } finally {
      await sender.close();
      await receiver.close();
    }
  });
});

describe('mcp-cluster CLI lifecycle and configuration', () => {
  test('SIGTERM drains and exits 0', async () => {
    const cli = await startCli(['--workers', '1']);
    const c = await connectClient(cli.url);
    await c.client.ping();
    assert.equal(await cli.stop('SIGTERM'), 0);
    await c.close().catch(() => undefined);
  });

  test('without --workers the CLI runs one worker per core', () => {
    assert.equal(loadConfig([], {}).workers, availableParallelism());
    assert.equal(loadConfig(['--workers', '3'], {}).workers, 3);
    assert.equal(loadConfig([], { MCP_WORKERS: '2' }).workers, 2);
  });

  test('--help lists every option with its environment variable', () => {
    const result = runCli(['--help']);
    assert.equal(result.status, 0);
    for (const text of ['--workers', 'MCP_WORKERS', '--redis-url', 'REDIS_URL', '--channel-prefix', '--shutdown-timeout']) {
      assert.ok(result.stdout.includes(text), `--help mentions ${text}`);
    }
  });

  test('a bad value exits 2 with one line naming the option', () => {
    const result = runCli(['--workers', 'many']);
    assert.equal(result.status, 2);
    assert.equal(result.stderr.trim().split('\n').length, 1);
    assert.match(result.stderr, /--workers \(MCP_WORKERS\)/);
    const unknown = runCli(['--wrokers', '2']);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /wrokers/);
    const env = runCli([], { PORT: '99999' });
    assert.equal(env.status, 2);
    assert.match(env.stderr, /--port \(PORT\)/);
  });
});
