// What a load balancer and Prometheus see: /healthz (alive), /readyz (accepting and the broker
// connected) and /metrics, for one process and in Redis mode (no hub: the primary still sums the
// workers' metrics). The cluster IPC mode is covered by cluster.test.ts.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startCli, type RunningCli } from '../helpers/cli.ts';
import { eventually } from '../helpers/in-process.ts';
import { RawSession } from '../helpers/raw-session.ts';
import { startRedis, type RedisHandle } from '../helpers/redis.ts';

async function get(cli: RunningCli, path: string): Promise<{ status: number; type: string; text: string }> {
  // A fresh connection each time: node:cluster spreads them over the workers.
  const res = await fetch(cli.url.replace('/mcp', path), { headers: { connection: 'close' } });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

/** The value of one sample of the Prometheus text, e.g. `sample(text, 'mcp_x_total{a="b"}')`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('one process', () => {
  let cli: RunningCli;
  before(async () => {
    cli = await startCli(['--workers', '1']);
  });
  after(async () => {
    await cli.stop();
  });

  test('/healthz is 200; /readyz is 200 and names its checks', async () => {
    assert.equal((await get(cli, '/healthz')).status, 200);
    const ready = await get(cli, '/readyz');
    assert.equal(ready.status, 200);
    assert.deepEqual(JSON.parse(ready.text), { status: 'ready', checks: { accepting: true } });
  });

  test('/metrics counts sessions, streams, notifications (delivered and dropped) and request durations by method', async () => {
    const receiver = new RawSession(cli.url);
    await receiver.open();
    const sender = new RawSession(cli.url);
    await sender.open();
    const stream = await receiver.openStream();
    try {
      const delivered = await sender.callTool('notify', { sessionId: receiver.sessionId, text: 'hi' });
      assert.equal((delivered.result.structuredContent as { delivered: boolean }).delivered, true);
      await sender.callTool('notify', { sessionId: 'nobody', text: 'lost' });

      const metrics = await get(cli, '/metrics');
      assert.equal(metrics.status, 200);
      assert.match(metrics.type, /^text\/plain; version=0\.0\.4/);
      assert.equal(sample(metrics.text, 'mcp_sessions_opened_total'), 2);
      assert.equal(sample(metrics.text, 'mcp_sse_streams_open'), 1);
      assert.equal(sample(metrics.text, 'mcp_notifications_published_total'), 2);
      assert.equal(sample(metrics.text, 'mcp_notifications_delivered_total'), 1);
      assert.equal(sample(metrics.text, 'mcp_notifications_dropped_total'), 1);
      assert.equal(sample(metrics.text, 'mcp_request_duration_seconds_count{method="tools/call"}'), 2);
      assert.equal(sample(metrics.text, 'mcp_request_duration_seconds_count{method="initialize"}'), 2);
      assert.equal(sample(metrics.text, 'mcp_pool_queue_depth'), 0);
      assert.ok(sample(metrics.text, 'process_resident_memory_bytes')! > 0, 'Node.js process metrics');
    } finally {
      await stream.close();
    }
    assert.equal((await receiver.delete()).status, 200);
    await eventually(async () => sample((await get(cli, '/metrics')).text, 'mcp_sse_streams_open') === 0, 5_000, 'stream gone');
    assert.equal(sample((await get(cli, '/metrics')).text, 'mcp_sessions_closed_total'), 1);
  });
});

describe('Redis mode, two workers', () => {
  let redis: RedisHandle;
  let cli: RunningCli;
  before(async () => {
    redis = await startRedis();
    cli = await startCli(['--workers', '2', '--redis-url', redis.url, '--channel-prefix', `ops${process.pid}`]);
  });
  after(async () => {
    await cli?.stop();
    await redis?.stop();
  });

  test('/readyz follows the Redis connections, /metrics counts their reconnects, summed by the primary', async (t) => {
    if (!redis.owned) return t.skip('needs a redis-server this test can stop (REDIS_URL is set)');
    const ready = await get(cli, '/readyz');
    assert.equal(ready.status, 200);
    assert.deepEqual(JSON.parse(ready.text).checks, { accepting: true, redisPublisher: true, redisSubscriber: true });

    await redis.kill();
    const down = await eventually(async () => {
      const r = await get(cli, '/readyz');
      return r.status === 503 ? r : undefined;
    }, 10_000, '/readyz 503 without Redis');
    assert.equal(JSON.parse(down.text).status, 'not ready');
    assert.equal((await get(cli, '/healthz')).status, 200, 'alive all the same');

    await redis.restart();
    // Both workers ready again: /readyz answers 200 on several fresh connections in a row.
    await eventually(async () => {
      for (let i = 0; i < 4; i++) if ((await get(cli, '/readyz')).status !== 200) return false;
      return true;
    }, 10_000, '/readyz 200 once Redis is back');
    const { text } = await get(cli, '/metrics');
    assert.equal(sample(text, 'mcp_cluster_workers_reporting'), 2);
    // Two workers × two connections, each reconnecting at least once.
    assert.ok(sample(text, 'mcp_redis_reconnects_total{client="publisher"}')! >= 2, text);
    assert.ok(sample(text, 'mcp_redis_reconnects_total{client="subscriber"}')! >= 2, text);
  });
});
