// notifications/cancelled that lands on another worker aborts a CPU task running on this one's
// pool: two servers share a broker and a session store, as two workers share Redis or the hub.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { z } from 'zod';
import { MemoryBroker } from '../../src/broker/memory.ts';
import type { McpServer } from '../../src/mcp/server.ts';
import { ToolPool } from '../../src/pool/pool.ts';
import { poolTool } from '../../src/pool/tool.ts';
import { MemorySessionStore } from '../../src/sessions/memory.ts';
import { eventually, startTestServer, type TestServer } from '../helpers/in-process.ts';
import { RawSession } from '../helpers/raw-session.ts';

const PRIMES = new URL('../../src/pool/tasks/primes.ts', import.meta.url);

let pool: ToolPool;
let a: TestServer;
let b: TestServer;

before(async () => {
  pool = new ToolPool({ threads: 1 });
  const broker = new MemoryBroker();
  const sessions = new MemorySessionStore();
  const register = (server: McpServer) =>
    server.tool('count_primes', { inputSchema: z.object({ limit: z.number().int() }) }, poolTool(pool, PRIMES, 'countPrimes', {
      toResult: ({ count }: { count: number }) => ({ content: [{ type: 'text', text: String(count) }] }),
    }));
  a = await startTestServer(register, { server: { broker, sessions } });
  b = await startTestServer(register, { server: { broker, sessions } });
});
after(async () => {
  await a.close();
  await b.close();
  await pool.close();
});

test('a cancellation received by another worker aborts the running pool task and frees its thread', async () => {
  const onA = new RawSession(a.url);
  await onA.open();
  // Trial division up to 30 million takes many seconds: it only ends early if cancelled.
  const heavy = onA.post({ jsonrpc: '2.0', id: 'heavy', method: 'tools/call', params: { name: 'count_primes', arguments: { limit: 30_000_000 } } });
  await eventually(() => pool.stats().pending === 1, 10_000, 'the task running on the pool');

  const onB = new RawSession(b.url);
  onB.sessionId = onA.sessionId;
  const cancel = await onB.post({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'heavy', reason: 'not needed' } });
  assert.equal(cancel.status, 202);

  const reply = await heavy;
  assert.equal(reply.messages.filter((m) => m.id === 'heavy').length, 0, 'no result for a cancelled request');
  await eventually(() => pool.stats().pending === 0, 5_000, 'the thread freed');
  const small = await onA.callTool('count_primes', { limit: 100 });
  assert.deepEqual(small.result.content, [{ type: 'text', text: '25' }]);
});
