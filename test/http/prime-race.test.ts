// With --replay, a fresh GET stream is primed with the stream's position. A notification
// published between the subscribe and the priming must still be written: here the broker
// publishes one the moment the subscription is live, before the server can prime the stream.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { SseEventListener } from '../../src/broker/broker.ts';
import { MemoryBroker } from '../../src/broker/memory.ts';
import type { McpServer } from '../../src/mcp/server.ts';
import { MemoryReplayBuffer } from '../../src/replay/memory.ts';
import { startTestServer, type TestServer } from '../helpers/in-process.ts';
import { RawSession } from '../helpers/raw-session.ts';

/** A broker that lets the test act right after a subscription became live. */
class HookedBroker extends MemoryBroker {
  afterSubscribe: ((sessionId: string) => Promise<void>) | undefined;

  override async subscribe(sessionId: string, onEvent: SseEventListener): Promise<void> {
    await super.subscribe(sessionId, onEvent);
    const hook = this.afterSubscribe;
    this.afterSubscribe = undefined;
    await hook?.(sessionId);
  }
}

let ts: TestServer;
let server: McpServer;
const broker = new HookedBroker();

before(async () => {
  ts = await startTestServer((s) => (server = s), { server: { broker, replay: new MemoryReplayBuffer({ maxLength: 100 }) } });
});
after(() => ts?.close());

test('a notification published right after the subscription went live reaches the new stream', async () => {
  const session = new RawSession(ts.url);
  await session.open();
  let delivered: boolean | undefined;
  broker.afterSubscribe = async (sessionId) => {
    if (sessionId !== session.sessionId) return;
    delivered = await server.notify(session.sessionId, { method: 'notifications/message', params: { level: 'info', data: 'early' } });
  };
  const stream = await session.openStream();
  try {
    const early = await stream.waitFor((e) => e.data.includes('"early"'), 3_000);
    assert.equal(delivered, true);
    const priming = stream.events[0]!;
    assert.equal(priming.data, '');
    // The priming id comes before the notification's, so a resume from it would include it.
    assert.ok(Number(priming.id!.split('/')[1]) < Number(early.id!.split('/')[1]), `${priming.id} before ${early.id}`);
  } finally {
    await stream.close();
  }
});
