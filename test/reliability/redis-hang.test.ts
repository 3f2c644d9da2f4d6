// A Redis that hangs (the process stopped, its socket still open) must not hang the server:
// commands time out, notify resolves false, requests get 503 with Retry-After, and all is well
// again once Redis answers.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { startCli, type RunningCli } from '../helpers/cli.ts';
import { RawSession } from '../helpers/raw-session.ts';
import { startRedis, type RedisHandle } from '../helpers/redis.ts';

let redis: RedisHandle;
let cli: RunningCli;
let redisPid = 0;

before(async () => {
  redis = await startRedis();
  const probe = new Redis(redis.url);
  redisPid = Number(/process_id:(\d+)/.exec(await probe.info('server'))![1]);
  probe.disconnect();
  cli = await startCli(['--workers', '1', '--redis-url', redis.url]);
});
after(async () => {
  if (redisPid) process.kill(redisPid, 'SIGCONT');
  await cli.stop();
  await redis.stop();
});

test('while Redis hangs, notify resolves false and requests get 503 within the command timeout; afterwards all works', { skip: !process.env.REDIS_URL ? false : 'needs a redis-server this test owns' }, async () => {
  const sender = new RawSession(cli.url);
  await sender.open();
  const target = new RawSession(cli.url);
  await target.open();
  process.kill(redisPid, 'SIGSTOP');
  try {
    const started = Date.now();
    // The sender's session is cached by the worker: the call runs, and its notify cannot publish.
    const reply = await sender.post({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'notify', arguments: { sessionId: target.sessionId, text: 'x' } } });
    const elapsed = Date.now() - started;
    if (reply.status === 200) {
      const result = reply.messages.find((m) => m.id === 1)!.result as { structuredContent: { delivered: boolean } };
      assert.equal(result.structuredContent.delivered, false);
    } else {
      assert.equal(reply.status, 503);
      assert.ok(reply.headers['retry-after']);
    }
    assert.ok(elapsed < 25_000, `answered after ${elapsed} ms`);
    const fresh = new RawSession(cli.url);
    const init = await fresh.post({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } } });
    assert.equal(init.status, 503, 'a session cannot be created while Redis hangs');
  } finally {
    process.kill(redisPid, 'SIGCONT');
  }
  const after = new RawSession(cli.url);
  await after.open();
  const { result } = await after.callTool('notify', { sessionId: target.sessionId, text: 'y' });
  assert.equal((result.structuredContent as { delivered: boolean }).delivered, false);
  assert.equal(cli.child.exitCode, null, 'the worker is still running');
});
