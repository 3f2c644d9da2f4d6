// pm2.config.cjs for real: pm2 (its own daemon, in a temp PM2_HOME) runs our primary in fork mode,
// the primary forks the workers, `pm2 stop` drains them all to exit 0 and leaves no Redis
// connection behind, and a bad option is not restarted forever. No pm2 daemon outlives the test.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { eventually } from '../helpers/in-process.ts';
import { connectClient } from '../helpers/mcp-client.ts';
import { RedisClients, startRedis, type RedisHandle } from '../helpers/redis.ts';
import { isAlive } from '../helpers/processes.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CONFIG = join(ROOT, 'pm2.config.cjs');
const PM2_BIN = join(ROOT, 'node_modules/pm2/bin/pm2');
const APP = 'mcp-cluster';
const run = promisify(execFile);

interface Pm2Process {
  name: string;
  pid: number;
  pm2_env: {
    status: string;
    exec_mode: string;
    restart_time: number;
    exit_code?: number;
    pm_out_log_path: string;
    pm_err_log_path: string;
  };
}

interface LogLine {
  msg: string;
  [key: string]: unknown;
}


function parentOf(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1]);
}

function readLog(path: string): LogLine[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as LogLine];
      } catch {
        return [];
      }
    });
}

describe('under pm2: fork mode, our primary forks the workers', () => {
  const home = mkdtempSync(join(tmpdir(), 'mcp-cluster-pm2-'));
  const prefix = `t${randomUUID().slice(0, 8)}`;
  let redis: RedisHandle | undefined;
  let clients: RedisClients | undefined;
  /** Every app process seen (primary and workers): none may survive `pm2 kill`. */
  const appPids = new Set<number>();

  /** Runs the pm2 CLI against this test's own daemon (started on first use). */
  const pm2 = async (args: string[], env: Record<string, string> = {}): Promise<string> => {
    const { stdout } = await run(process.execPath, [PM2_BIN, ...args], {
      cwd: ROOT,
      timeout: 30_000,
      env: {
        ...process.env,
        PM2_HOME: home,
        // No banner, no version check over the network.
        PM2_DISCRETE_MODE: 'true',
        PM2_DISABLE_VERSION_CHECK: 'true',
        ...env,
      },
    });
    return stdout;
  };
  const jlist = async (): Promise<Pm2Process[]> => JSON.parse(await pm2(['jlist'])) as Pm2Process[];
  const daemonPid = (): number | undefined => {
    const file = join(home, 'pm2.pid');
    return existsSync(file) ? Number(readFileSync(file, 'utf8')) : undefined;
  };

  before(async () => {
    redis = await startRedis();
    clients = new RedisClients(redis.url);
  });
  after(async () => {
    const daemon = daemonPid();
    try {
      await pm2(['kill']);
      if (daemon !== undefined) await eventually(() => !isAlive(daemon), 10_000, 'the pm2 daemon to exit');
      await eventually(() => [...appPids].every((pid) => !isAlive(pid)), 10_000, 'every app process to exit');
    } finally {
      await clients?.closeAll();
      await redis?.stop();
      rmSync(home, { recursive: true, force: true });
    }
  });

  test('pm2 start: online once every worker listens; serves MCP; pm2 stop drains every worker to 0, no Redis connection left', async () => {
    await pm2(['start', CONFIG], {
      PORT: '0',
      MCP_WORKERS: '2',
      REDIS_URL: redis!.url,
      MCP_CHANNEL_PREFIX: prefix,
      MCP_SHUTDOWN_TIMEOUT: '3000',
      LOG_LEVEL: 'info',
    });
    const daemon = daemonPid();
    assert.ok(daemon !== undefined && isAlive(daemon), 'pm2 daemon running in the temp PM2_HOME');

    // wait_ready: `pm2 start` returned after the primary's process.send('ready').
    const [app, ...others] = await jlist();
    assert.equal(others.length, 0);
    assert.equal(app!.name, APP);
    assert.equal(app!.pm2_env.status, 'online');
    assert.equal(app!.pm2_env.exec_mode, 'fork_mode');
    const primaryPid = app!.pid;
    appPids.add(primaryPid);
    const outLog = app!.pm2_env.pm_out_log_path;

    // The start-up line (pino JSON in pm2's out log) gives the URL: PORT=0 chose a free port.
    const startLine = await eventually(() => readLog(outLog).find((line) => line.msg.startsWith('mcp-cluster listening on')), 10_000, 'start-up line');
    assert.match(startLine.msg, /^mcp-cluster listening on http:\/\/127\.0\.0\.1:\d+\/mcp \(workers: 2, broker: redis\)$/);
    assert.equal(startLine.pid, primaryPid);
    const url = String(startLine.url);

    // Our primary forked the workers: they are its children, not pm2's.
    const workers = await eventually(() => {
      const lines = readLog(outLog).filter((line) => line.msg === 'worker listening');
      return lines.length >= 2 ? lines.map((line) => Number(line.workerPid)) : undefined;
    }, 10_000, 'worker listening lines');
    assert.equal(workers.length, 2);
    for (const pid of workers) appPids.add(pid);
    for (const pid of workers) assert.equal(parentOf(pid), primaryPid);
    assert.equal(parentOf(primaryPid), daemon);

    const admin = await clients!.create('test-admin');
    const named = async () =>
      String(await admin.client('LIST'))
        .split('\n')
        .map((line) => /name=(\S*)/.exec(line)?.[1] ?? '')
        .filter((name) => name.startsWith('mcp-cluster:'))
        .sort();
    assert.deepEqual(await named(), ['mcp-cluster:w1:pub', 'mcp-cluster:w1:sub', 'mcp-cluster:w2:pub', 'mcp-cluster:w2:sub']);

    // The official SDK client: a notify from one session reaches another session's stream.
    const sender = await connectClient(url);
    const receiver = await connectClient(url);
    try {
      const sum = await sender.client.callTool({ name: 'add', arguments: { a: 2, b: 40 } });
      assert.deepEqual(sum.structuredContent, { sum: 42 });
      const got: unknown[] = [];
      receiver.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
        got.push(n.params.data);
      });
      // The SDK opens its GET stream in the background after initialize: wait until it is attached.
      await eventually(async () => {
        const r = await sender.client.callTool({ name: 'notify', arguments: { sessionId: receiver.sessionId, text: 'under pm2' } });
        return (r.structuredContent as { delivered: boolean }).delivered;
      }, 10_000, 'a delivered notify');
      await eventually(() => got.length > 0, 5_000, 'the notification');
      assert.equal((got[0] as { text: string }).text, 'under pm2');
    } finally {
      await sender.close();
      await receiver.close();
    }

    // pm2 stop: SIGINT to the tree, everyone drains; it returns once the processes are gone.
    await pm2(['stop', APP]);
    const stopped = await eventually(() => readLog(outLog).find((line) => line.msg === 'all workers stopped'), 5_000, 'all workers stopped');
    assert.deepEqual(stopped.codes, [0, 0]);
    for (const pid of [primaryPid, ...workers]) assert.ok(!isAlive(pid), `pid ${pid} exited`);
    const [afterStop] = await jlist();
    assert.equal(afterStop!.pm2_env.status, 'stopped');
    assert.equal(afterStop!.pm2_env.restart_time, 0);
    assert.deepEqual(await named(), []);

    await pm2(['delete', APP]);
    assert.deepEqual(await jlist(), []);
  });

  test('a bad option exits 2 once and pm2 does not restart it', async () => {
    await pm2(['start', CONFIG], { MCP_WORKERS: 'many' });
    const app = await eventually(async () => {
      const [found] = await jlist();
      return found?.pm2_env.status === 'stopped' ? found : undefined;
    }, 10_000, 'the app to stop');
    assert.equal(app.pm2_env.exit_code, 2);
    assert.equal(app.pm2_env.restart_time, 0);
    const errors = await eventually(() => {
      const text = existsSync(app.pm2_env.pm_err_log_path) ? readFileSync(app.pm2_env.pm_err_log_path, 'utf8') : '';
      return text.includes('\n') ? text : undefined;
    }, 5_000, 'the error line');
    // One line naming the option, and nothing else in the error log of either start (no
    // "TypeScript support unavailable" from pm2's container: pm2-entry.mjs avoids it).
    const lines = errors.trim().split('\n');
    assert.equal(lines.length, 1, errors);
    assert.match(lines[0]!, /^mcp-cluster: --workers \(MCP_WORKERS\): /);
    await pm2(['delete', APP]);
  });
});
