// Resumable streams in one process: event ids, Last-Event-ID replay, the documented outcome for
// an id outside the retained window, SSE polling, and a POST stream closed mid-call.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MemoryReplayBuffer } from '../../src/replay/memory.ts';
import { connectClient } from '../helpers/mcp-client.ts';
import { eventually, startTestServer, type TestServer } from '../helpers/in-process.ts';
import { messageData, RawSession } from '../helpers/raw-session.ts';

const tick = (n: number) => ({ method: 'notifications/message', params: { level: 'info', data: { tick: n } } });
const ticksOf = (events: Array<{ data: string }>) =>
  events.filter((e) => e.data).map((e) => (messageData(e).params as { data: { tick: number } }).data.tick);

describe('resumable streams (memory replay buffer)', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer(
      (server) => {
        server.tool('polled', {}, async (_args, ctx) => {
          // SSE polling: end the POST stream now, then keep working; the client resumes.
          assert.equal(ctx.closeSseStream(50), true);
          await ctx.progress(1, 2, 'after close');
          await new Promise((resolve) => setTimeout(resolve, 20));
          await ctx.progress(2, 2, 'still going');
          return { content: [{ type: 'text', text: 'finished after the stream closed' }] };
        });
      },
      { server: { replay: new MemoryReplayBuffer({ maxLength: 5 }) }, http: { retryMs: 50 } },
    );
  });
  after(() => ts.close());

  test('a GET stream is primed with an id and a retry hint, and its events carry ids of their stream', async () => {
    const session = new RawSession(ts.url);
    await session.open();
    const stream = await session.openStream();
    try {
      const priming = await stream.waitFor(() => true);
      assert.equal(priming.id, 'g/0');
      assert.equal(priming.data, '');
      assert.deepEqual(stream.retries, [50]);
      assert.equal(await ts.server.notify(session.sessionId, tick(1)), true);
      const first = await stream.waitFor((e) => e.data !== '');
      assert.equal(first.id, 'g/1');
    } finally {
      await stream.close();
    }
  });

  test('GET with Last-Event-ID replays what was missed, then continues live, without duplicates', async () => {
    const session = new RawSession(ts.url);
    await session.open();
    const first = await session.openStream();
    await ts.server.notify(session.sessionId, tick(1));
    await first.waitFor((e) => e.id === 'g/1');
    await first.close();
    await eventually(async () => !(await ts.server.broker.hasSubscriber(session.sessionId)), 5_000, 'stream detached');
    // Published while no stream is attached: not delivered, but retained.
    assert.equal(await ts.server.notify(session.sessionId, tick(2)), false);
    assert.equal(await ts.server.notify(session.sessionId, tick(3)), false);
    const resumed = await session.openStream({ 'last-event-id': 'g/1' });
    try {
      await ts.server.notify(session.sessionId, tick(4));
      await resumed.waitFor((e) => e.id === 'g/4');
      assert.deepEqual(ticksOf(resumed.events), [2, 3, 4]);
      assert.deepEqual(resumed.events.map((e) => e.id), ['g/2', 'g/3', 'g/4']);
    } finally {
      await resumed.close();
    }
  });

  test('an id outside the retained window gets a replay-gap event, then what is still retained', async () => {
    const session = new RawSession(ts.url);
    await session.open();
    for (let n = 1; n <= 9; n++) await ts.server.notify(session.sessionId, tick(n));
    const resumed = await session.openStream({ 'last-event-id': 'g/1' });
    try {
      const gap = await resumed.waitFor((e) => e.event === 'replay-gap');
      assert.deepEqual(JSON.parse(gap.data), { lastEventId: 'g/1', status: 'gap' });
      await resumed.waitFor((e) => e.id === 'g/9');
      assert.deepEqual(ticksOf(resumed.events.filter((e) => e.event !== 'replay-gap')), [5, 6, 7, 8, 9]);
    } finally {
      await resumed.close();
    }
    const unknown = await session.openStream({ 'last-event-id': 'pNoSuch/7' });
    try {
      const gap = await unknown.waitFor((e) => e.event === 'replay-gap');
      assert.deepEqual(JSON.parse(gap.data), { lastEventId: 'pNoSuch/7', status: 'unknown' });
    } finally {
      await unknown.close();
    }
  });

  test('SSE polling: a handler ends its POST stream; the official client resumes and gets progress and result', async () => {
    const c = await connectClient(ts.url);
    try {
      const progress: string[] = [];
      const result = await c.client.callTool({ name: 'polled', arguments: {} }, undefined, {
        onprogress: (p) => progress.push(p.message ?? ''),
      });
      assert.deepEqual(result.content, [{ type: 'text', text: 'finished after the stream closed' }]);
      assert.deepEqual(progress, ['after close', 'still going']);
    } finally {
      await c.close();
    }
  });
});

describe('SSE polling of the GET stream', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer(() => undefined, {
      server: { replay: new MemoryReplayBuffer() },
      http: { retryMs: 20, ssePollMs: 100 },
    });
  });
  after(() => ts.close());

  test('the server ends the stream with a retry hint; resuming with Last-Event-ID loses nothing', async () => {
    const session = new RawSession(ts.url);
    await session.open();
    const stream = await session.openStream();
    await ts.server.notify(session.sessionId, tick(1));
    await stream.ended;
    assert.deepEqual(stream.retries, [20, 20]);
    await ts.server.notify(session.sessionId, tick(2));
    const last = stream.events.filter((e) => e.id).at(-1)!.id!;
    const next = await session.openStream({ 'last-event-id': last });
    try {
      await next.waitFor((e) => e.data !== '');
      assert.deepEqual([...ticksOf(stream.events), ...ticksOf(next.events)], [1, 2]);
    } finally {
      await next.close();
    }
  });
});
