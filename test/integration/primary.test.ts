// The node:cluster primary as users run it (the real CLI): it restarts a killed worker while the
// others keep serving, gives up on a crash loop with exit 1, refuses to start without its Redis
// (one line, exit 1, quickly), and treats SIGINT (Ctrl-C) like SIGTERM.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { isAlive } from '../helpers/processes.ts';
import { logLines, startCli, type LogLine, type RunningCli } from '../helpers/cli.ts';
import { eventually } from '../helpers/in-process.ts';
import { messageData, RawSession } from '../helpers/raw-session.ts';
import { startRedis } from '../helpers/redis.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));


/** Every `worker listening` line of the primary so far: slot and process, oldest first. */
function listening(cli: RunningCli): Array<{ worker: string; workerPid: number }> {
  return logLines(cli)
    .filter((line) => line.msg === 'worker listening')
    .map((line) => ({ worker: String(line.worker), workerPid: Number(line.workerPid) }));
}

/** Worker slot -> pid, once `count` workers have reported listening. */
async function workerPids(cli: RunningCli, count: number): Promise<Map<string, number>> {
  const lines = await eventually(() => (listening(cli).length >= count ? listening(cli) : undefined), 10_000, `${count} workers listening`);
  return new Map(lines.map((line) => [line.worker, line.workerPid]));
}


function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Runs the CLI to its exit (killed and failed after `timeoutMs`: it must never hang). */
async function runToExit(args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  assert.equal(signal, null, `the CLI did not exit by itself within ${timeoutMs} ms; stderr: ${stderr}`);
  return { code, stdout, stderr, ms: Date.now() - started };
}

async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const notifyBody = (id: number, sessionId: string, text: string) => () => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name: 'notify', arguments: { sessionId, text } },
});

describe('the node:cluster primary', () => {
  test('SIGKILL of a worker: the primary restarts its slot; the other worker serves meanwhile; the new one joins', async () => {
    const cli = await startCli(['--workers', '2', '--shutdown-timeout', '3000']);
    try {
      const pids = await workerPids(cli, 2);
      const victim = pids.get('w1')!;
      const session = new RawSession(cli.url);
      await session.open();
      const stream = await session.openStreamOn((worker) => worker === 'w1');

      process.kill(victim, 'SIGKILL');
      const exit = JSON.parse(await cli.waitForLine(/worker exited unexpectedly/)) as LogLine;
      assert.equal(exit.worker, 'w1');
      assert.equal(exit.signal, 'SIGKILL');
      assert.equal(typeof exit.restartInMs, 'number');
      await stream.ended; // the stream died with its worker

      // Before w1 is back, w2 serves the same session (the primary holds the sessions).
      const meanwhile = await session.callTool('whoami', {}, 1);
      assert.equal(meanwhile.workerId, 'w2');
      assert.deepEqual(meanwhile.result.structuredContent, { worker: 'w2', sessionId: session.sessionId });

      const back = await eventually(
        () => listening(cli).find((line) => line.worker === 'w1' && line.workerPid !== victim),
        10_000,
        'w1 listening again',
      );
      assert.ok(isAlive(back.workerPid));
      assert.ok(!isAlive(victim));

      // The new w1 is a full member: it holds the reopened stream and gets a notify sent on w2.
      const reopened = await session.openStreamOn((worker) => worker === 'w1');
      try {
        const reply = await session.postOn(notifyBody(2, session.sessionId, 'after restart'), (worker) => worker === 'w2');
        const result = reply.messages.find((message) => message.id === 2)!.result as { structuredContent: { delivered: boolean } };
        assert.equal(result.structuredContent.delivered, true);
        const event = await reopened.waitFor((e) => e.data.includes('after restart'));
        assert.deepEqual((messageData(event).params as { data: unknown }).data, { text: 'after restart', from: 'w2' });
      } finally {
        await reopened.close();
      }

      assert.equal(await cli.stop('SIGTERM'), 0);
      const stopped = logLines(cli).find((line) => line.msg === 'all workers stopped')!;
      assert.deepEqual(stopped.codes, [0, 0]);
    } finally {
      await cli.stop('SIGKILL');
    }
  });

  test('a crash loop (Redis gone, every worker killed) ends with a fatal log line and exit 1', async (t) => {
    const redis = await startRedis();
    if (!redis.owned) {
      t.skip('needs a redis-server this test owns (REDIS_URL is set)');
      return;
    }
    const prefix = `t${randomUUID().slice(0, 8)}`;
    const cli = await startCli(['--workers', '4', '--redis-url', redis.url, '--channel-prefix', prefix, '--shutdown-timeout', '2000']);
    const stderr: string[] = [];
    cli.child.stderr!.on('data', (chunk: string) => stderr.push(chunk));
    try {
      const pids = await workerPids(cli, 4);
      await redis.kill();
      // Every replacement now fails at start (it cannot reach Redis) and is restarted again.
      const exited = once(cli.child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
      for (const pid of pids.values()) process.kill(pid, 'SIGKILL');
      const [code, signal] = await withDeadline(exited, 30_000, 'the primary to give up');
      assert.deepEqual([code, signal], [1, null]);

      const lines = logLines(cli);
      const fatal = lines.filter((line) => line.level === 60);
      assert.equal(fatal.length, 1);
      assert.equal(fatal[0]!.msg, 'workers are crash-looping; stopping');
      assert.ok(Number(fatal[0]!.crashes) > 10);
      const restarts = lines.filter((line) => line.msg === 'worker exited unexpectedly; restarting');
      assert.ok(restarts.length >= 10, `${restarts.length} restarts logged`);
      // Backoff: the delays grow.
      const delays = restarts.map((line) => Number(line.restartInMs));
      assert.ok(delays.at(-1)! > delays[0]!, `delays ${delays.join(', ')}`);
      assert.ok(lines.some((line) => line.msg === 'all workers stopped'));
      // Each failed start said why, on one line naming Redis.
      const why = stderr.join('').trim().split('\n');
      assert.ok(why.length >= 1);
      for (const line of why) assert.match(line, /^mcp-cluster: Redis unreachable at redis:\/\/127\.0\.0\.1:\d+/);
      for (const pid of pids.values()) assert.ok(!isAlive(pid));
    } finally {
      await cli.stop('SIGKILL');
      await redis.stop();
    }
  });

  for (const workers of [1, 2]) {
    test(`Redis unreachable at start (--workers ${workers}): exit 1, one line on stderr naming Redis, within seconds`, async () => {
      const port = await closedPort();
      const result = await runToExit(['--workers', String(workers), '--redis-url', `redis://127.0.0.1:${port}`], 15_000);
      assert.equal(result.code, 1);
      const lines = result.stderr.trim().split('\n');
      assert.equal(lines.length, 1, result.stderr);
      assert.match(lines[0]!, new RegExp(`^mcp-cluster: Redis unreachable at redis://127\\.0\\.0\\.1:${port}`));
      assert.ok(result.ms < 10_000, `exited after ${result.ms} ms`);
      assert.doesNotMatch(result.stdout, /worker listening|listening on/);
    });
  }

  test('SIGINT (Ctrl-C) drains like SIGTERM: streams get a retry hint, every worker exits 0, exit 0', async () => {
    const cli = await startCli(['--workers', '2', '--shutdown-timeout', '3000']);
    try {
      const pids = await workerPids(cli, 2);
      const session = new RawSession(cli.url);
      await session.open();
      const stream = await session.openStream();
      assert.equal(stream.status, 200);
      assert.equal(await cli.stop('SIGINT'), 0);
      await stream.ended;
      assert.ok(stream.retries.length > 0, 'the stream carried a retry: hint');
      const lines = logLines(cli);
      assert.ok(lines.some((line) => line.msg === 'draining workers'));
      const stopped = lines.filter((line) => line.msg === 'all workers stopped');
      assert.equal(stopped.length, 1);
      assert.deepEqual(stopped[0]!.codes, [0, 0]);
      assert.equal(lines.filter((line) => line.msg === 'worker exited unexpectedly; restarting').length, 0);
      for (const pid of pids.values()) assert.ok(!isAlive(pid));
    } finally {
      await cli.stop('SIGKILL');
    }
  });
});
