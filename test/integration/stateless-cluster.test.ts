// The 2026-07-28 revision across workers: a change triggered on one worker reaches every
// listen stream of the cluster exactly once; an input round trip may continue on another
// worker. Redis mode and cluster-IPC mode.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RunningCli } from '../helpers/cli.ts';
import { startClusterUnderTest, type ClusterUnderTest } from '../helpers/cluster-under-test.ts';
import { call, listen, type ListenStream } from '../helpers/stateless.ts';

function statelessAcrossWorkers(mode: 'redis' | 'cluster') {
  describe(`2026-07-28 across workers, ${mode} mode`, () => {
    let under: ClusterUnderTest;
    let cli: RunningCli;

    before(async () => {
      under = await startClusterUnderTest(mode, 2);
      ({ cli } = under);
    });
    after(() => under.stop());

    test('list changes and resource updates reach every listen stream of the cluster once, whichever worker triggers them', async () => {
      const streams: ListenStream[] = [];
      try {
        for (let i = 0; i < 4; i++) {
          const stream = await listen(cli.url, { toolsListChanged: true, resourceSubscriptions: ['demo://readme'] }, { id: `listen-${i}` });
          await stream.waitFor((m) => m.method === 'notifications/subscriptions/acknowledged');
          streams.push(stream);
        }
        assert.deepEqual(new Set(streams.map((s) => s.workerId)).size, 2, 'listen streams on both workers');
        const triggered = new Set<string>();
        for (let i = 0; i < 4; i++) {
          const reply = await call(cli.url, 'tools/call', { name: 'broadcast', arguments: { kind: 'tools' } });
          assert.equal(reply.status, 200);
          triggered.add(reply.workerId);
        }
        assert.equal(triggered.size, 2, 'changes triggered from both workers');
        await call(cli.url, 'tools/call', { name: 'touch_resource', arguments: {} });
        for (const [i, stream] of streams.entries()) {
          await stream.waitFor(() => stream.messages.filter((n) => n.method === 'notifications/tools/list_changed').length === 4);
          const updated = await stream.waitFor((m) => m.method === 'notifications/resources/updated');
          assert.deepEqual(updated.params, { uri: 'demo://readme', _meta: { 'io.modelcontextprotocol/subscriptionId': `listen-${i}` } });
          assert.equal(stream.messages.filter((m) => m.method === 'notifications/resources/updated').length, 1);
        }
        // Exactly once: no extra copies arrive after a round trip through the cluster.
        await call(cli.url, 'tools/list');
        for (const stream of streams) assert.equal(stream.messages.filter((m) => m.method === 'notifications/tools/list_changed').length, 4);
      } finally {
        await Promise.all(streams.map((s) => s.close()));
      }
    });

    test('an input round trip started on one worker completes on another (the signing key is shared)', async () => {
      const caps = { capabilities: { elicitation: {} } };
      let crossed = false;
      for (let round = 0; round < 8 && !crossed; round++) {
        const first = await call(cli.url, 'tools/call', { name: 'ask_name', arguments: {} }, caps);
        const asked = first.body.result as { resultType: string; inputRequests: Record<string, unknown>; requestState: string };
        assert.equal(asked.resultType, 'input_required');
        const [key] = Object.keys(asked.inputRequests);
        const retry = await call(
          cli.url,
          'tools/call',
          { name: 'ask_name', arguments: {}, inputResponses: { [key!]: { action: 'accept', content: { name: 'Lin' } } }, requestState: asked.requestState },
          caps,
        );
        assert.deepEqual((retry.body.result as { content: unknown }).content, [{ type: 'text', text: 'Hello, Lin!' }]);
        crossed = retry.workerId !== first.workerId;
      }
      assert.ok(crossed, 'a retry landed on the other worker');
    });
  });
}

statelessAcrossWorkers('redis');
statelessAcrossWorkers('cluster');
