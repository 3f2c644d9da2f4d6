// The tasks extension across real workers, Redis mode and cluster-IPC mode: a task started on one
// worker is read and answered through another (the task store is shared), and a cancel sent to
// another worker ends it.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TASKS_EXTENSION } from '../../src/mcp/tasks.ts';
import { startClusterUnderTest, type ClusterUnderTest } from '../helpers/cluster-under-test.ts';
import { eventually } from '../helpers/in-process.ts';
import { call, type StatelessReply } from '../helpers/stateless.ts';

const DECLARING = { capabilities: { elicitation: {}, extensions: { [TASKS_EXTENSION]: {} } } };

function resultOf(reply: StatelessReply): Record<string, unknown> {
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
  assert.ok('result' in reply.body, JSON.stringify(reply.body));
  return reply.body.result as Record<string, unknown>;
}

function tasksAcrossWorkers(mode: 'redis' | 'cluster') {
  describe(`tasks across workers, ${mode} mode`, () => {
    let under: ClusterUnderTest;
    let url: string;

    before(async () => {
      under = await startClusterUnderTest(mode, 2, ['--app', 'conformance']);
      url = under.cli.url;
    });
    after(() => under.stop());

    /** Repeats a request on fresh connections until a worker other than `not` answers it. */
    async function elsewhere(not: string, method: string, params: Record<string, unknown>): Promise<StatelessReply> {
      for (let attempt = 0; attempt < 32; attempt++) {
        const reply = await call(url, method, params, DECLARING);
        if (reply.workerId !== not) return reply;
      }
      throw new Error(`no worker other than ${not} answered ${method}`);
    }

    test('started on one worker, asked, answered and completed through the other', async () => {
      const created = await call(url, 'tools/call', { name: 'confirm_delete', arguments: { filename: 'notes.txt' } }, DECLARING);
      const task = resultOf(created);
      assert.equal(task.resultType, 'task');
      const taskId = task.taskId as string;
      const owner = created.workerId;

      let waiting: Record<string, unknown> = {};
      await eventually(async () => {
        waiting = resultOf(await elsewhere(owner, 'tasks/get', { taskId }));
        return waiting.status === 'input_required';
      }, 10_000, 'input_required, read on the other worker');
      const [key] = Object.keys(waiting.inputRequests as Record<string, unknown>);
      resultOf(await elsewhere(owner, 'tasks/update', { taskId, inputResponses: { [key!]: { action: 'accept', content: { confirm: true } } } }));

      let done: Record<string, unknown> = {};
      await eventually(async () => {
        done = resultOf(await elsewhere(owner, 'tasks/get', { taskId }));
        return done.status === 'completed';
      }, 10_000, 'the task to complete on its worker');
      assert.deepEqual((done.result as { content: unknown }).content, [{ type: 'text', text: 'Deleted notes.txt' }]);
    });

    test('a cancel sent to the other worker ends the task', async () => {
      const created = await call(url, 'tools/call', { name: 'slow_compute', arguments: { seconds: 60 } }, DECLARING);
      const taskId = resultOf(created).taskId as string;
      resultOf(await elsewhere(created.workerId, 'tasks/cancel', { taskId }));
      for (let i = 0; i < 4; i++) assert.equal(resultOf(await call(url, 'tasks/get', { taskId }, DECLARING)).status, 'cancelled');
    });
  });
}

tasksAcrossWorkers('redis');
tasksAcrossWorkers('cluster');
