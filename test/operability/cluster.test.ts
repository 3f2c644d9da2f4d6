// Two workers over cluster IPC, as operators run them: /metrics asked of any worker is the sum
// over all workers, and a zero-downtime rolling restart (SIGHUP to the primary, or
// `pm2 sendSignal SIGHUP mcp-cluster`) replaces the workers one at a time while clients keep
// calling tools and keep their GET streams, which resume with Last-Event-ID (--replay).

import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import type { EventSourceMessage } from 'eventsource-parser';
import { logLines, startCli, type RunningCli } from '../helpers/cli.ts';
import { eventually } from '../helpers/in-process.ts';
import { RawSession } from '../helpers/raw-session.ts';

async function get(cli: RunningCli, path: string): Promise<{ status: number; text: string }> {
  // A fresh connection each time: node:cluster spreads them over the workers.
  const res = await fetch(cli.url.replace('/mcp', path), { headers: { connection: 'close' } });
  return { status: res.status, text: await res.text() };
}

/** The value of one sample of the Prometheus text, e.g. `sample(text, 'mcp_x_total{a="b"}')`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}


/** Enough to see what goes wrong; the loops stop there instead of spinning against a dead server. */
const MAX_FAILURES = 20;

/** A GET stream that follows its session across workers: reconnects with Last-Event-ID whenever it ends. */
function follow(session: RawSession, failures: string[]) {
  const texts: string[] = [];
  const workers: string[] = [];
  let current: EventSourceMessage[] = [];
  const textOf = (event: EventSourceMessage) => String((JSON.parse(event.data) as { params: { data: { text: string } } }).params.data.text);
  let lastEventId: string | undefined;
  let stopped = false;
  let stopCurrent: (() => void) | undefined;
  const done = (async () => {
    while (!stopped && failures.length < MAX_FAILURES) {
      let stream;
      try {
        stream = await session.openStream(lastEventId ? { 'last-event-id': lastEventId } : {});
      } catch (err) {
        failures.push(`GET failed: ${(err as Error).message}`);
        await delay(50);
        continue;
      }
      if (stream.status !== 200) failures.push(`GET answered ${stream.status}`);
      workers.push(stream.workerId);
      current = stream.events;
      await Promise.race([stream.ended, new Promise<void>((resolve) => (stopCurrent = resolve))]);
      await stream.close();
      for (const event of stream.events) {
        if (event.id) lastEventId = event.id;
        if (event.data) texts.push(textOf(event));
      }
      current = [];
    }
  })();
  return {
    /** Every notification text received so far, the open stream's included. */
    texts: () => [...texts, ...current.filter((event) => event.data).map(textOf)],
    /** Worker of every stream opened, in order: more than one means the stream was resumed. */
    workers,
    async stop() {
      stopped = true;
      stopCurrent?.();
      await done;
    },
  };
}

describe('two workers, cluster IPC, --replay', () => {
  let cli: RunningCli;
  before(async () => {
    cli = await startCli(['--workers', '2', '--replay', '--sse-retry', '50', '--shutdown-timeout', '3000']);
  });
  after(async () => {
    await cli.stop();
  });

  test('any worker answers /metrics with the sum over all workers', async () => {
    // Sessions opened until both workers have opened some: each worker counts only its own.
    const byWorker = new Map<string, number>();
    for (let i = 0; i < 40 && (byWorker.size < 2 || i < 6); i++) {
      const worker = await new RawSession(cli.url).open();
      byWorker.set(worker, (byWorker.get(worker) ?? 0) + 1);
      // open() is two connections: a third moves the next initialize to the other worker.
      await get(cli, '/healthz');
    }
    assert.equal(byWorker.size, 2, 'both workers opened sessions');
    const total = [...byWorker.values()].reduce((a, b) => a + b, 0);
    for (let i = 0; i < 4; i++) {
      const { text } = await get(cli, '/metrics');
      assert.equal(sample(text, 'mcp_sessions_opened_total'), total);
      assert.equal(sample(text, 'mcp_cluster_workers'), 2);
      assert.equal(sample(text, 'mcp_cluster_workers_reporting'), 2);
      assert.equal(sample(text, 'mcp_worker_restarts_total'), 0);
    }
    const ready = JSON.parse((await get(cli, '/readyz')).text) as { checks: Record<string, boolean> };
    assert.deepEqual(ready.checks, { accepting: true, primary: true });
  });

  test('no request fails, every worker is replaced, and GET streams resume on the new workers without a gap', { timeout: 45_000 }, async () => {
    const failures: string[] = [];
    let calls = 0;
    let stopping = false;

    // Two sessions hold GET streams; four callers keep calling tools, on fresh connections that
    // node:cluster spreads over the workers. Callers 0 and 1 also notify stream 0 and 1.
    const receivers = await Promise.all([0, 1].map(async () => {
      const session = new RawSession(cli.url);
      await session.open();
      return session;
    }));
    const followers = receivers.map((session) => follow(session, failures));
    const sent: string[][] = [[], []];
    await Promise.all(followers.map((f) => eventually(() => f.workers.length > 0, 5_000, 'streams open')));

    const callers = [0, 1, 2, 3].map(async (index) => {
      const session = new RawSession(cli.url);
      await session.open();
      for (let n = 0; !stopping && failures.length < MAX_FAILURES; n++) {
        try {
          const { result } = await session.callTool('add', { a: n, b: 1 }, n + 1);
          if ((result.structuredContent as { sum: number }).sum !== n + 1) failures.push(`wrong sum from add(${n}, 1)`);
          calls++;
          const receiver = receivers[index];
          if (receiver) {
            const text = `c${index}-${n}`;
            await session.callTool('notify', { sessionId: receiver.sessionId, text }, 1_000_000 + n);
            sent[index]!.push(text);
            calls++;
          }
        } catch (err) {
          failures.push(`caller ${index}: ${(err as Error).message}`);
        }
      }
    });

    const before = logLines(cli).filter((line) => line.msg === 'worker listening').map((line) => Number(line.workerPid));
    await eventually(() => calls >= 20, 5_000, 'load running');
    cli.child.kill('SIGHUP');
    await cli.waitForLine(/rolling restart done/, 20_000);
    const callsAtRestartEnd = calls;
    await eventually(() => calls >= callsAtRestartEnd + 20, 5_000, 'load continuing after the restart');
    stopping = true;
    await Promise.all(callers);

    // Every notification was retained: each stream eventually shows all of them, once, in order.
    for (const [index, follower] of followers.entries()) {
      await eventually(() => follower.texts().length >= sent[index]!.length, 5_000, `stream ${index} caught up`);
    }
    await Promise.all(followers.map((f) => f.stop()));

    assert.deepEqual(failures, [], `no failed request (${calls} calls)`);
    const listening = logLines(cli).filter((line) => line.msg === 'worker listening');
    const replacements = listening.map((line) => Number(line.workerPid)).filter((pid) => !before.includes(pid));
    assert.equal(replacements.length, 2, 'both workers were replaced');
    for (const [index, follower] of followers.entries()) {
      assert.deepEqual(follower.texts(), sent[index], `stream ${index}: every notification, once, in order`);
      assert.ok(follower.workers.length > 1, `stream ${index} was resumed (${follower.workers.join(' → ')})`);
    }
    // Each stream's last resume landed on a replacement: the cluster's metrics count them as hits.
    const { text } = await get(cli, '/metrics');
    assert.ok(sample(text, 'mcp_replay_resumes_total{outcome="complete"}')! >= 2, 'replay hits counted');
    assert.equal(sample(text, 'mcp_worker_restarts_total'), 0, 'replaced on purpose: not restarts');
  });
});
