// The tasks extension (io.modelcontextprotocol/tasks, 2026-07-28): negotiation per request, a
// tools/call that becomes a task, its life through tasks/get, questions answered by tasks/update
// (partially, then fully), tool errors vs protocol errors, cancel, and the MRTR → task
// composition. Two servers sharing one task store and one broker stand for two workers: a task
// started on one is read, answered and cancelled through the other.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { z } from 'zod';
import { registerConformanceApp } from '../../src/apps/conformance.ts';
import { MemoryBroker } from '../../src/broker/memory.ts';
import { TASKS_EXTENSION } from '../../src/mcp/tasks.ts';
import { MemorySessionStore } from '../../src/sessions/memory.ts';
import { MemoryTaskStore } from '../../src/tasks/memory.ts';
import { eventually, startTestServer, type TestServer } from '../helpers/in-process.ts';
import { call, type StatelessReply } from '../helpers/stateless.ts';

const DECLARING = { elicitation: {}, extensions: { [TASKS_EXTENSION]: {} } };

function result(reply: StatelessReply): Record<string, unknown> {
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
  assert.ok('result' in reply.body, JSON.stringify(reply.body));
  return reply.body.result as Record<string, unknown>;
}

function errorOf(reply: StatelessReply): { code: number; message: string; data?: unknown } {
  assert.ok('error' in reply.body, JSON.stringify(reply.body));
  return reply.body.error as { code: number; message: string; data?: unknown };
}

describe('tasks extension across two servers sharing a task store', () => {
  let a: TestServer;
  let b: TestServer;
  const aborted: string[] = [];

  before(async () => {
    const tasks = new MemoryTaskStore();
    const broker = new MemoryBroker();
    const sessions = new MemorySessionStore();
    const register = (name: string) => (server: Parameters<Parameters<typeof startTestServer>[0]>[0]) => {
      registerConformanceApp(server);
      server.tool('sleeper', { inputSchema: z.object({}), taskSupport: 'optional' }, async (_args, ctx) => {
        await ctx.startTask();
        await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
        aborted.push(name);
        return { content: [{ type: 'text', text: 'woke up' }] };
      });
    };
    // Separate instance ids, shared store and broker: what two workers of one deployment share.
    const requestState = { secret: 'shared-by-both' };
    a = await startTestServer(register('a'), { server: { tasks, broker, sessions, requestState, instanceId: 'a' } });
    b = await startTestServer(register('b'), { server: { tasks, broker, sessions, requestState, instanceId: 'b' } });
  });
  after(async () => {
    await a?.close();
    await b?.close();
  });

  async function poll(url: string, taskId: string, until: (task: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
    let task: Record<string, unknown> = {};
    await eventually(async () => {
      task = result(await call(url, 'tasks/get', { taskId }, { capabilities: DECLARING }));
      return until(task);
    }, 10_000, 'the task to reach the expected state');
    return task;
  }

  test('server/discover advertises the extension under capabilities.extensions', async () => {
    const discovered = result(await call(a.url, 'server/discover'));
    const capabilities = discovered.capabilities as Record<string, unknown>;
    assert.deepEqual((capabilities.extensions as Record<string, unknown>)[TASKS_EXTENSION], {});
    assert.equal(capabilities.tasks, undefined);
  });

  test('without the extension in the request: tasks/* and a task-required tool get -32021 with the capability named; an optional tool runs synchronously', async () => {
    for (const [method, params] of [['tasks/get', { taskId: 'whatever' }], ['tools/call', { name: 'failing_job', arguments: {} }]] as const) {
      const reply = await call(a.url, method, params, { capabilities: { elicitation: {} } });
      assert.equal(reply.status, 400);
      const error = errorOf(reply);
      assert.equal(error.code, -32021);
      assert.deepEqual(error.data, { requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } } });
    }
    const sync = result(await call(a.url, 'tools/call', { name: 'slow_compute', arguments: { seconds: 0.05 } }));
    assert.equal(sync.resultType, 'complete');
    assert.equal(sync.taskId, undefined);
    assert.match(JSON.stringify(sync.content), /done after 0.05 s/);
  });

  test('a task started on A is answered through B: input_required, a partial update, then completed', async () => {
    const created = result(await call(a.url, 'tools/call', { name: 'multi_input', arguments: {} }, { capabilities: DECLARING }));
    assert.equal(created.resultType, 'task');
    assert.equal(created.status, 'working');
    assert.equal(typeof created.taskId, 'string');
    for (const absent of ['result', 'error', 'inputRequests', 'requestState', 'ttl', 'pollInterval']) assert.equal(created[absent], undefined, absent);
    assert.ok(Number.isInteger(created.ttlMs) && Number.isInteger(created.pollIntervalMs));
    const taskId = created.taskId as string;

    const waiting = await poll(b.url, taskId, (task) => task.status === 'input_required' && Object.keys(task.inputRequests as object).length === 2);
    const keys = Object.keys(waiting.inputRequests as Record<string, unknown>);
    assert.equal((waiting.inputRequests as Record<string, { method: string }>)[keys[0]!]!.method, 'elicitation/create');

    const accept = (name: string) => ({ action: 'accept', content: { name } });
    // One answer, plus a key the task never asked: the unknown one is ignored, the task still waits.
    const ack = result(await call(b.url, 'tasks/update', { taskId, inputResponses: { [keys[0]!]: accept('first'), 'unknown-key': { ignored: true } } }, { capabilities: DECLARING }));
    assert.deepEqual(Object.keys(ack).sort(), ['_meta', 'resultType']);
    const partial = result(await call(b.url, 'tasks/get', { taskId }, { capabilities: DECLARING }));
    assert.equal(partial.status, 'input_required');
    assert.deepEqual(Object.keys(partial.inputRequests as object), [keys[1]]);

    await call(b.url, 'tasks/update', { taskId, inputResponses: { [keys[1]!]: accept('second') } }, { capabilities: DECLARING });
    const done = await poll(b.url, taskId, (task) => task.status === 'completed');
    assert.deepEqual((done.result as { content: unknown }).content, [{ type: 'text', text: 'multi_input: first, second' }]);
    assert.equal((done.result as Record<string, unknown>)._meta, undefined);
    assert.equal(done.requestState, undefined);
  });

  test('a tool error completes the task with isError; a protocol error fails it with the error', async () => {
    const failing = result(await call(a.url, 'tools/call', { name: 'failing_job', arguments: {} }, { capabilities: DECLARING }));
    const protocol = result(await call(a.url, 'tools/call', { name: 'protocol_error_job', arguments: {} }, { capabilities: DECLARING }));
    const completed = await poll(b.url, failing.taskId as string, (task) => task.status !== 'working');
    assert.equal(completed.status, 'completed');
    assert.equal((completed.result as Record<string, unknown>).isError, true);
    const failed = await poll(b.url, protocol.taskId as string, (task) => task.status !== 'working');
    assert.equal(failed.status, 'failed');
    assert.equal((failed.error as { code: number }).code, -32603);
    assert.equal(failed.result, undefined);
  });

  test('tasks/cancel through B aborts the handler running on A; cancelling again is an empty ack', async () => {
    const created = result(await call(a.url, 'tools/call', { name: 'sleeper', arguments: {} }, { capabilities: DECLARING }));
    const taskId = created.taskId as string;
    const ack = result(await call(b.url, 'tasks/cancel', { taskId }, { capabilities: DECLARING }));
    assert.deepEqual(Object.keys(ack).sort(), ['_meta', 'resultType']);
    await eventually(() => aborted.includes('a'), 5_000, "the handler's signal on A");
    const cancelled = await poll(a.url, taskId, (task) => task.status !== 'working');
    assert.equal(cancelled.status, 'cancelled');
    result(await call(b.url, 'tasks/cancel', { taskId }, { capabilities: DECLARING }));
    // Its handler returned after the abort: the outcome does not overwrite the cancel.
    assert.equal(result(await call(b.url, 'tasks/get', { taskId }, { capabilities: DECLARING })).status, 'cancelled');
  });

  test('an unknown task id is -32602', async () => {
    for (const method of ['tasks/get', 'tasks/update', 'tasks/cancel']) {
      const reply = await call(b.url, method, { taskId: 'no-such-task' }, { capabilities: DECLARING });
      assert.equal(reply.status, 200);
      assert.equal(errorOf(reply).code, -32602);
    }
  });

  test('MRTR first, then a task: round 1 asks without a taskId, round 2 is the task, its result carries the answer', async () => {
    const round1 = result(await call(a.url, 'tools/call', { name: 'test_tool_with_task', arguments: {} }, { capabilities: DECLARING }));
    assert.equal(round1.resultType, 'input_required');
    assert.equal(round1.taskId, undefined);
    const round2 = result(
      await call(
        b.url,
        'tools/call',
        { name: 'test_tool_with_task', arguments: {}, inputResponses: { user_name: { action: 'accept', content: { name: 'Alice' } } }, requestState: round1.requestState },
        { capabilities: DECLARING },
      ),
    );
    assert.equal(round2.resultType, 'task');
    assert.equal(round2.requestState, undefined);
    const done = await poll(a.url, round2.taskId as string, (task) => task.status === 'completed');
    assert.match(JSON.stringify(done.result), /Hello, Alice!/);
  });
});

describe('a task waiting for answers hears of them from the other server', () => {
  let a: TestServer;
  let b: TestServer;
  /** A task store that counts its reads. */
  class CountingTaskStore extends MemoryTaskStore {
    reads = 0;
    override get(taskId: string) {
      this.reads++;
      return super.get(taskId);
    }
  }
  const tasks = new CountingTaskStore();

  before(async () => {
    const broker = new MemoryBroker();
    const sessions = new MemorySessionStore();
    const requestState = { secret: 'shared-by-both' };
    // Rereads an hour apart: an answer can only reach the handler through the announcement.
    const taskOptions = { answerRereadMs: 3_600_000 };
    a = await startTestServer(registerConformanceApp, { server: { tasks, broker, sessions, requestState, instanceId: 'a', taskOptions } });
    b = await startTestServer(registerConformanceApp, { server: { tasks, broker, sessions, requestState, instanceId: 'b', taskOptions } });
  });
  after(async () => {
    await a?.close();
    await b?.close();
  });

  test('the handler on A does not poll the store while it waits, and the answers given through B complete the task', async () => {
    const created = result(await call(a.url, 'tools/call', { name: 'multi_input', arguments: {} }, { capabilities: DECLARING }));
    const taskId = created.taskId as string;
    let waiting: Record<string, unknown> = {};
    await eventually(async () => {
      waiting = result(await call(b.url, 'tasks/get', { taskId }, { capabilities: DECLARING }));
      return waiting.status === 'input_required' && Object.keys(waiting.inputRequests as object).length === 2;
    }, 10_000, 'both questions');

    // Nobody asks anything for a second: the waiting handler reads nothing meanwhile.
    const readsBefore = tasks.reads;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    assert.equal(tasks.reads, readsBefore, 'store reads while the handler waited');

    const keys = Object.keys(waiting.inputRequests as Record<string, unknown>);
    const accept = (name: string) => ({ action: 'accept', content: { name } });
    await call(b.url, 'tasks/update', { taskId, inputResponses: { [keys[0]!]: accept('first') } }, { capabilities: DECLARING });
    await call(b.url, 'tasks/update', { taskId, inputResponses: { [keys[1]!]: accept('second') } }, { capabilities: DECLARING });
    let done: Record<string, unknown> = {};
    await eventually(async () => {
      done = result(await call(b.url, 'tasks/get', { taskId }, { capabilities: DECLARING }));
      return done.status === 'completed';
    }, 10_000, 'the task to complete');
    assert.deepEqual((done.result as { content: unknown }).content, [{ type: 'text', text: 'multi_input: first, second' }]);
  });
});
