// One suite for every ReplayBuffer: run by replay.test.ts against memory, Redis and the cluster hub.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { JsonRpcMessage } from '../../src/mcp/jsonrpc.ts';
import type { ReplayBuffer, ReplayEntry } from '../../src/replay/replay.ts';

export interface ReplayFixture {
  /** A buffer retaining at most `maxLength` events per stream. */
  buffer: ReplayBuffer;
  maxLength: number;
  /** How many events the backend holds for the stream right now, when it can tell (bounds check). */
  storedLength?(sessionId: string, streamId: string): Promise<number>;
  cleanup(): Promise<void>;
}

const note = (n: number): JsonRpcMessage => ({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: n } });

async function collect(buffer: ReplayBuffer, sessionId: string, lastEventId: string) {
  const entries: ReplayEntry[] = [];
  const outcome = await buffer.replayAfter(sessionId, lastEventId, (entry) => entries.push(entry));
  return { outcome, entries, data: entries.map((entry) => (entry.message as unknown as { params: { data: number } }).params.data) };
}

export function replayContract(name: string, create: () => Promise<ReplayFixture>): void {
  describe(`ReplayBuffer contract: ${name}`, () => {
    let fixture: ReplayFixture;
    before(async () => {
      fixture = await create();
    });
    after(() => fixture.cleanup());

    test('event ids encode their stream and count from 1', async () => {
      const session = randomUUID();
      assert.equal(await fixture.buffer.tail(session, 'g'), 'g/0');
      assert.equal(await fixture.buffer.append(session, 'g', note(1)), 'g/1');
      assert.equal(await fixture.buffer.append(session, 'g', note(2)), 'g/2');
      assert.equal(await fixture.buffer.append(session, 'p1', note(3)), 'p1/1');
      assert.equal(await fixture.buffer.tail(session, 'g'), 'g/2');
    });

    test('replayAfter sends exactly the events after the id, in order, from that stream only', async () => {
      const session = randomUUID();
      // Fixtures retain at least 4 events per stream.
      for (let n = 1; n <= 4; n++) await fixture.buffer.append(session, 'g', note(n));
      await fixture.buffer.append(session, 'pX', note(100));
      const { outcome, entries, data } = await collect(fixture.buffer, session, 'g/2');
      assert.deepEqual(outcome, { status: 'complete', streamId: 'g' });
      assert.deepEqual(data, [3, 4]);
      assert.deepEqual(entries.map((entry) => entry.id), ['g/3', 'g/4']);
      assert.deepEqual((await collect(fixture.buffer, session, 'g/4')).data, []);
      assert.deepEqual((await collect(fixture.buffer, session, 'g/0')).data, [1, 2, 3, 4]);
      assert.deepEqual((await collect(fixture.buffer, session, 'pX/0')).data, [100]);
    });

    test('streams are scoped to their session', async () => {
      const owner = randomUUID();
      await fixture.buffer.append(owner, 'g', note(1));
      await fixture.buffer.append(owner, 'g', note(2));
      const stranger = await collect(fixture.buffer, randomUUID(), 'g/1');
      assert.deepEqual(stranger.outcome, { status: 'unknown' });
      assert.deepEqual(stranger.data, []);
    });

    test('a priming id on a stream with nothing retained yet is an empty, complete replay', async () => {
      const { outcome, data } = await collect(fixture.buffer, randomUUID(), 'pNew/0');
      assert.deepEqual(outcome, { status: 'complete', streamId: 'pNew' });
      assert.deepEqual(data, []);
    });

    test('malformed or future ids are unknown', async () => {
      const session = randomUUID();
      await fixture.buffer.append(session, 'g', note(1));
      assert.deepEqual((await collect(fixture.buffer, session, 'garbage')).outcome, { status: 'unknown' });
      assert.deepEqual((await collect(fixture.buffer, session, 'g/-1')).outcome, { status: 'unknown' });
      assert.deepEqual((await collect(fixture.buffer, session, 'g/9')).outcome, { status: 'unknown' });
    });

    test('retention is bounded: never more than maxLength per stream; an older id reports a gap', async () => {
      const session = randomUUID();
      const total = fixture.maxLength * 3 + 1;
      for (let n = 1; n <= total; n++) await fixture.buffer.append(session, 'g', note(n));
      if (fixture.storedLength) assert.equal(await fixture.storedLength(session, 'g'), fixture.maxLength);
      const fromStart = await collect(fixture.buffer, session, 'g/0');
      assert.deepEqual(fromStart.outcome, { status: 'gap', streamId: 'g' });
      assert.equal(fromStart.entries.length, fixture.maxLength);
      assert.deepEqual(fromStart.data, Array.from({ length: fixture.maxLength }, (_, i) => total - fixture.maxLength + 1 + i));
      const edge = await collect(fixture.buffer, session, `g/${total - fixture.maxLength}`);
      assert.equal(edge.outcome.status, 'complete');
      assert.equal(edge.entries.length, fixture.maxLength);
    });

    test('forget drops every stream of the session', async () => {
      const session = randomUUID();
      await fixture.buffer.append(session, 'g', note(1));
      await fixture.buffer.append(session, 'pA', note(2));
      await fixture.buffer.forget(session);
      assert.equal((await collect(fixture.buffer, session, 'g/0')).data.length, 0);
      assert.equal(await fixture.buffer.tail(session, 'pA'), 'pA/0');
    });
  });
}
