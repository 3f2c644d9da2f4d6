// Dispatch of the 2026-07-28 (sessionless) revision: which methods exist there, the result
// envelope (`resultType`, caching hints, server info), input round trips with a signed
// `requestState`, and the tasks extension's methods and tools/call that become tasks. The
// methods themselves are the server's, shared with the session era.

import type { Cancellation } from './cancellation.ts';
import type { Exchange, MessageOrigin, RequestContext } from './context.ts';
import { ErrorCode, McpError, invalidParams, methodNotFound } from './errors.ts';
import type { JsonRpcRequest } from './jsonrpc.ts';
import { InputRequired, InputRound, type RequestStateCodec } from './request-state.ts';
import { META_SERVER_INFO, mirroredName } from './stateless.ts';
import {
  TASK_METHODS,
  createTaskResult,
  declaresTasks,
  missingTasksExtension,
  type TaskManager,
  type TaskStarter,
  type TaskSupport,
} from './tasks.ts';

/** Methods of the 2026-07-28 revision; the session-era ones it removed are unknown there. */
export const STATELESS_METHODS: ReadonlySet<string> = new Set([
  'server/discover',
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'subscriptions/listen',
  ...TASK_METHODS,
]);

/** Requests whose handlers may ask for input (InputRequiredResult). */
const ROUND_TRIP_METHODS: ReadonlySet<string> = new Set(['tools/call', 'prompts/get', 'resources/read']);

/** Results that carry caching hints. */
const CACHEABLE: ReadonlySet<string> = new Set(['tools/list', 'resources/list', 'resources/templates/list', 'resources/read', 'prompts/list']);

/** What the dispatcher needs of the server. */
export interface StatelessServer {
  serverInfo: Record<string, unknown>;
  discover(): Record<string, unknown>;
  cacheHints: { ttlMs: number; cacheScope: 'public' | 'private' };
  requestState: RequestStateCodec;
  tasks: TaskManager;
  taskSupport(toolName: unknown): TaskSupport | undefined;
  /** Runs a method (the same dispatch as the session era). */
  dispatch(request: JsonRpcRequest, ctx: RequestContext): Promise<Record<string, unknown>>;
  context(
    request: JsonRpcRequest,
    origin: MessageOrigin,
    exchange: Exchange,
    cancellation: Cancellation,
    round: InputRound | undefined,
    task: TaskStarter | undefined,
  ): RequestContext;
  shuttingDown(): boolean;
  logger?: { warn(obj: object, msg: string): void };
}

export class StatelessDispatcher {
  readonly #server: StatelessServer;

  constructor(server: StatelessServer) {
    this.#server = server;
  }

  async dispatch(request: JsonRpcRequest, origin: MessageOrigin, exchange: Exchange, cancellation: Cancellation): Promise<Record<string, unknown>> {
    const server = this.#server;
    if (!STATELESS_METHODS.has(request.method)) throw methodNotFound(request.method);
    const serverInfo = { [META_SERVER_INFO]: server.serverInfo };
    if (request.method === 'server/discover') {
      const discovered = server.discover();
      return { resultType: 'complete', ...discovered, ...server.cacheHints, _meta: { ...(discovered._meta as object), ...serverInfo } };
    }
    const declaresTaskExtension = declaresTasks(origin.stateless!.clientCapabilities);
    if (TASK_METHODS.has(request.method)) {
      // Gated per request, before the task is even looked up.
      if (!declaresTaskExtension) throw missingTasksExtension(request.method);
      const answered = await this.#taskMethod(request);
      return { resultType: 'complete', ...answered, _meta: serverInfo };
    }
    const round = ROUND_TRIP_METHODS.has(request.method) ? this.#inputRound(request) : undefined;
    let task: TaskStarter | undefined;
    if (request.method === 'tools/call') {
      const support = server.taskSupport(request.params?.name);
      if (support === 'required' && !declaresTaskExtension) throw missingTasksExtension(`Tool ${String(request.params?.name)}`);
      if (support && declaresTaskExtension) task = server.tasks.starter(cancellation);
    }
    const ctx = server.context(request, origin, exchange, cancellation, round, task);
    let result: Record<string, unknown>;
    try {
      if (task) {
        const run = server.dispatch(request, ctx);
        const first = await Promise.race([run.then((value) => ({ value })), task.started.then((record) => ({ record }))]);
        if ('record' in first) {
          this.#recordOutcome(first.record.taskId, run, cancellation);
          return { ...createTaskResult(first.record), _meta: serverInfo };
        }
        result = first.value;
      } else {
        result = await server.dispatch(request, ctx);
      }
    } catch (err) {
      if (err instanceof InputRequired && round) return this.#inputRequired(request, round);
      // spec 2026-07-28 (SEP-2164): an unknown resource is invalid params, with its uri.
      if (err instanceof McpError && err.code === ErrorCode.ResourceNotFound) throw invalidParams(err.message, err.data);
      throw err;
    }
    cancellation.throwIfAborted();
    // A handler that caught InputRequired and returned anyway still lacks its answers.
    if (round && round.missing() && result.isError !== true) return this.#inputRequired(request, round);
    const decorated: Record<string, unknown> = { resultType: 'complete', ...result };
    if (CACHEABLE.has(request.method)) Object.assign(decorated, server.cacheHints);
    decorated._meta = { ...(result._meta as object | undefined), ...serverInfo };
    return decorated;
  }

  /** A task now: the handler goes on; its outcome is recorded for tasks/get. */
  #recordOutcome(taskId: string, run: Promise<Record<string, unknown>>, cancellation: Cancellation): void {
    const server = this.#server;
    const tasks = server.tasks;
    void run
      .then(
        (value) => tasks.settle(taskId, cancellation, { result: value }, false),
        (error: unknown) => tasks.settle(taskId, cancellation, { error }, server.shuttingDown()),
      )
      .catch((err: unknown) => server.logger?.warn({ err, taskId }, 'could not record the outcome of a task'));
  }

  #taskMethod(request: JsonRpcRequest): Promise<Record<string, unknown>> {
    const tasks = this.#server.tasks;
    switch (request.method) {
      case 'tasks/get':
        return tasks.get(request.params);
      case 'tasks/update':
        return tasks.update(request.params);
      case 'tasks/cancel':
        return tasks.cancel(request.params);
      default:
        throw methodNotFound(request.method);
    }
  }

  /** The answers a retried request carries: earlier rounds from its signed state, this round's in the clear. */
  #inputRound(request: JsonRpcRequest): InputRound {
    const params = request.params ?? {};
    const binding = mirroredName(request) ?? '';
    const earlier = params.requestState === undefined
      ? { answers: {}, round: 0 }
      : this.#server.requestState.decode(params.requestState, request.method, binding);
    const given = params.inputResponses;
    if (given !== undefined && (typeof given !== 'object' || given === null || Array.isArray(given))) {
      throw invalidParams('inputResponses must be an object');
    }
    return new InputRound({ ...earlier.answers }, (given as Record<string, unknown> | undefined) ?? {}, earlier.round);
  }

  #inputRequired(request: JsonRpcRequest, round: InputRound): Record<string, unknown> {
    return {
      resultType: 'input_required',
      inputRequests: round.pending,
      requestState: this.#server.requestState.encode({
        method: request.method,
        name: mirroredName(request) ?? '',
        answers: round.answered(),
        round: round.round + 1,
      }),
    };
  }
}
