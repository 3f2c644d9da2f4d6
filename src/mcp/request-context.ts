// The request context a handler receives, built the same way whichever protocol era produced
// the request: what it may send, ask and log goes through the exchange the transport gave.
// One object per request with its methods on the prototype: a request that only computes a
// result allocates no closures and no AbortController (see Cancellation).

import type { Cancellation } from './cancellation.ts';
import type { Exchange, MessageOrigin, RequestContext, ServerRequestOptions } from './context.ts';
import { ErrorCode, McpError } from './errors.ts';
import type { JsonRpcId, JsonRpcRequest } from './jsonrpc.ts';
import { passesLevel, type LoggingLevel } from './logging.ts';
import type { OutboundRequests } from './outbound.ts';
import type { InputRound } from './request-state.ts';
import type { ClientInfo } from '../sessions/store.ts';
import type { StatelessMeta } from './stateless.ts';
import type { TaskStarter } from './tasks.ts';

export interface ContextSources {
  request: JsonRpcRequest;
  origin: MessageOrigin;
  exchange: Exchange;
  cancellation: Cancellation;
  /** Sessionless era: the input round this run of the handler belongs to. */
  round: InputRound | undefined;
  /** Session era: where server-to-client requests wait for their replies. */
  outbound: OutboundRequests;
  requestTimeoutMs: number;
  /** A tools/call that may become a task (tasks extension). */
  task?: TaskStarter;
}

export class HandlerContext implements RequestContext {
  readonly requestId: JsonRpcId;
  readonly method: string;
  readonly protocolVersion: string;
  readonly sessionId: string | undefined;
  readonly clientInfo: ClientInfo | undefined;
  readonly clientCapabilities: Record<string, unknown>;
  readonly principal: string | undefined;
  readonly meta: Record<string, unknown> | undefined;
  readonly #exchange: Exchange;
  readonly #cancellation: Cancellation;
  readonly #round: InputRound | undefined;
  readonly #outbound: OutboundRequests;
  readonly #requestTimeoutMs: number;
  readonly #stateless: StatelessMeta | undefined;
  readonly #task: TaskStarter | undefined;
  /** Sessionless: only what the request asked for; in a session, what logging/setLevel set. */
  readonly #logThreshold: LoggingLevel | undefined;

  constructor(sources: ContextSources) {
    const { request, origin } = sources;
    const session = origin.session;
    const stateless = origin.stateless;
    this.requestId = request.id;
    this.method = request.method;
    this.protocolVersion = origin.protocolVersion;
    this.sessionId = session?.id;
    this.clientInfo = (stateless ? stateless.clientInfo : session?.clientInfo) as ClientInfo | undefined;
    this.clientCapabilities = stateless?.clientCapabilities ?? session?.clientCapabilities ?? {};
    this.principal = origin.principal;
    this.meta = request.params?._meta as Record<string, unknown> | undefined;
    this.#exchange = sources.exchange;
    this.#cancellation = sources.cancellation;
    this.#round = sources.round;
    this.#outbound = sources.outbound;
    this.#requestTimeoutMs = sources.requestTimeoutMs;
    this.#stateless = stateless;
    this.#task = sources.task;
    this.#logThreshold = stateless ? stateless.logLevel : session?.logLevel;
  }

  get signal(): AbortSignal {
    return this.#cancellation.signal;
  }

  closeSseStream(retryMs?: number): boolean {
    return this.#exchange.closeStream?.(retryMs) ?? false;
  }

  notify(method: string, params?: Record<string, unknown>): Promise<void> {
    return this.#exchange.send(params === undefined ? { jsonrpc: '2.0', method } : { jsonrpc: '2.0', method, params });
  }

  async progress(progress: number, total?: number, message?: string): Promise<void> {
    const progressToken = this.meta?.progressToken;
    if (typeof progressToken !== 'string' && typeof progressToken !== 'number') return;
    const params: Record<string, unknown> = { progressToken, progress };
    if (total !== undefined) params.total = total;
    if (message !== undefined) params.message = message;
    await this.notify('notifications/progress', params);
  }

  async log(level: LoggingLevel, data: unknown, logger?: string): Promise<void> {
    if (this.#stateless && this.#logThreshold === undefined) return;
    // spec 2025: without logging/setLevel the server decides what to send; we send everything.
    if (this.#logThreshold && !passesLevel(level, this.#logThreshold)) return;
    const params: Record<string, unknown> = { level, data };
    if (logger !== undefined) params.logger = logger;
    await this.notify('notifications/message', params);
  }

  request(method: string, params?: Record<string, unknown>, options: ServerRequestOptions = {}): Promise<Record<string, unknown>> {
    // A running task asks through the task (input_required until tasks/update answers).
    if (this.#task?.taskId !== undefined) return this.#task.ask(method, params, options.key);
    // Sessionless: no server-to-client requests; the question becomes an input round trip.
    if (this.#stateless) {
      if (!this.#round) throw new McpError(ErrorCode.InvalidRequest, `${method} is only possible from tools/call, prompts/get or resources/read`);
      return this.#round.ask(method, params, options.key);
    }
    const signal = options.signal ? AbortSignal.any([this.signal, options.signal]) : this.signal;
    return this.#outbound.issue(method, params, (message) => this.#exchange.send(message), {
      timeoutMs: options.timeoutMs ?? this.#requestTimeoutMs,
      signal,
    });
  }

  elicit(params: Record<string, unknown>, options?: ServerRequestOptions): Promise<Record<string, unknown>> {
    this.#requireCapability('elicitation', 'elicitation/create');
    return this.request('elicitation/create', params, options);
  }

  sample(params: Record<string, unknown>, options?: ServerRequestOptions): Promise<Record<string, unknown>> {
    this.#requireCapability('sampling', 'sampling/createMessage');
    return this.request('sampling/createMessage', params, options);
  }

  listRoots(options?: ServerRequestOptions): Promise<Record<string, unknown>> {
    this.#requireCapability('roots', 'roots/list');
    return this.request('roots/list', undefined, options);
  }

  startTask(options: { statusMessage?: string } = {}): Promise<void> {
    return this.#task ? this.#task.start(options.statusMessage) : Promise.resolve();
  }

  #requireCapability(capability: string, method: string): void {
    if (this.clientCapabilities[capability] !== undefined) return;
    const message = `The client did not declare the ${capability} capability needed for ${method}`;
    if (this.#stateless) {
      throw new McpError(ErrorCode.MissingCapability, message, { httpStatus: 400, data: { requiredCapabilities: { [capability]: {} } } });
    }
    throw new McpError(ErrorCode.InvalidRequest, message);
  }
}
