// The protocol engine: registration, lifecycle and dispatch of MCP methods. It knows nothing of
// HTTP: transports hand it messages with an origin (who asks, in which session and version) and
// an exchange (where related messages go), and it answers with JSON-RPC responses.

import { randomBytes, randomUUID } from 'node:crypto';
import type { ServerMetrics } from '../metrics/hooks.ts';
import type { SseBroker, SseEventListener } from '../broker/broker.ts';
import { ClusterLink } from './cluster-link.ts';
import { Cancellation } from './cancellation.ts';
import { HandlerContext } from './request-context.ts';
import { TASKS_EXTENSION, TaskManager, type TaskOptions, type TaskStarter } from './tasks.ts';
import { STATELESS_METHODS, StatelessDispatcher } from './stateless-dispatch.ts';
import { MemoryTaskStore } from '../tasks/memory.ts';
import type { TaskStore } from '../tasks/store.ts';
import { MemorySubscriptionBroker } from '../topics/memory.ts';
import { TOPICS, type SubscriptionBroker } from '../topics/topics.ts';
import { RequestStateCodec, type InputRound, type RequestStateOptions } from './request-state.ts';
import { META_SERVER_INFO, STATELESS_VERSION, STATELESS_VERSIONS } from './stateless.ts';
import { MemoryBroker } from '../broker/memory.ts';
import { MemorySessionStore } from '../sessions/memory.ts';
import { CachedSessionStore } from '../sessions/cached.ts';
import { GET_STREAM_ID, publishRetained, type ReplayBuffer } from '../replay/replay.ts';
import type { ClientInfo, SessionRecord, SessionStore } from '../sessions/store.ts';
import type { Exchange, MessageOrigin, RequestContext } from './context.ts';
import { ErrorCode, McpError, invalidParams, invalidRequest, methodNotFound, toErrorObject } from './errors.ts';
import {
  failure,
  success,
  type JsonRpcId,
  type JsonRpcMessage,
  type JsonRpcNotification,
  type JsonRpcRequest,
  type JsonRpcResponse,
} from './jsonrpc.ts';
import { isLoggingLevel } from './logging.ts';
import { OutboundRequests } from './outbound.ts';
import { paginate } from './registry/pagination.ts';
import { PromptRegistry, type PromptDefinition, type PromptHandler } from './registry/prompts.ts';
import {
  ResourceRegistry,
  type ResourceDefinition,
  type ResourceReader,
  type ResourceTemplateDefinition,
  type TemplateReader,
} from './registry/resources.ts';
import type { ObjectSchema } from './registry/schema.ts';
import type { HeaderParam } from './registry/header-params.ts';
import { ToolRegistry, type ToolDefinition, type ToolHandler } from './registry/tools.ts';
import type { CompletionResult, Icon } from './types.ts';
import { negotiateVersion } from './versions.ts';

export interface McpServerOptions {
  name: string;
  version: string;
  title?: string;
  description?: string;
  websiteUrl?: string;
  icons?: Icon[];
  /** Sent in the initialize result: how a model should use this server. */
  instructions?: string;
  /** Where messages for a session's GET stream travel. Default: a MemoryBroker (one process). */
  broker?: SseBroker;
  /** Where sessions live. Default: a MemorySessionStore (one process). */
  sessions?: SessionStore;
  /**
   * Opt-in retention of stream events for Last-Event-ID resume on any worker. Without it, an
   * event published while no stream is attached is dropped (notify resolves false).
   */
  replay?: ReplayBuffer;
  /** Where `subscriptions/listen` streams (2026-07-28) listen. Default: one process. */
  topics?: SubscriptionBroker;
  /** Where tasks of the tasks extension (2026-07-28) live. Default: one process. */
  tasks?: TaskStore;
  /** Lifetime and poll interval of those tasks, and how often a handler waiting for answers rereads its task. */
  taskOptions?: TaskOptions;
  /** Items per page of the list methods. Default 100. */
  pageSize?: number;
  /** How long a server-to-client request waits for the client's reply. Default 60 s. */
  requestTimeoutMs?: number;
  /** Unique per process in a cluster: it prefixes server-issued request ids. Default: random. */
  instanceId?: string;
  /**
   * Signs the `requestState` of input round trips (2026-07-28). Every worker of every host must
   * share the secret, or a retry that lands elsewhere is refused. Default: random per process.
   */
  requestState?: RequestStateOptions;
  /** Caching hints (2026-07-28) on list and read results. Default: ttlMs 0, private. */
  cacheHints?: { ttlMs: number; cacheScope: 'public' | 'private' };
  /** Where notify reports broker failures (at most one line per second). Default: none. */
  logger?: { warn(obj: object, msg: string): void };
  /** Counts sessions, notifications and request durations (src/metrics). Default: none. */
  metrics?: ServerMetrics;
}

export type { MessageOrigin } from './context.ts';

const COMPLETION_LIMIT = 100;

export class McpServer {
  readonly info: { name: string; version: string; title?: string; description?: string; websiteUrl?: string; icons?: Icon[] };
  readonly instructions: string | undefined;
  readonly broker: SseBroker;
  readonly sessions: SessionStore;
  readonly replay: ReplayBuffer | undefined;
  readonly topics: SubscriptionBroker;
  readonly tasks: TaskManager;
  readonly instanceId: string;
  readonly #tools = new ToolRegistry();
  readonly #resources = new ResourceRegistry();
  readonly #prompts = new PromptRegistry();
  readonly #outbound: OutboundRequests;
  readonly #inFlight = new Map<string, Cancellation>();
  readonly #pageSize: number;
  readonly #requestTimeoutMs: number;
  readonly #shutdown = new AbortController();
  readonly #metrics: ServerMetrics | undefined;
  readonly #logger: McpServerOptions['logger'];
  /** notify failures since the last warning, and when that was: one line per second at most. */
  #notifyFailures = { count: 0, warnedAt: 0 };
  readonly #link: ClusterLink;
  #statelessCount = 0;
  readonly #stateless: StatelessDispatcher;

  constructor(options: McpServerOptions) {
    this.info = { name: options.name, version: options.version };
    if (options.title !== undefined) this.info.title = options.title;
    if (options.description !== undefined) this.info.description = options.description;
    if (options.websiteUrl !== undefined) this.info.websiteUrl = options.websiteUrl;
    if (options.icons !== undefined) this.info.icons = options.icons;
    this.instructions = options.instructions;
    this.broker = options.broker ?? new MemoryBroker();
    this.sessions = options.sessions ?? new MemorySessionStore();
    this.replay = options.replay;
    this.topics = options.topics ?? new MemorySubscriptionBroker();
    this.instanceId = options.instanceId ?? randomBytes(6).toString('hex');
    this.#outbound = new OutboundRequests(this.instanceId);
    this.#pageSize = options.pageSize ?? 100;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
    this.#metrics = options.metrics;
    this.#logger = options.logger;
    this.tasks = new TaskManager(
      options.tasks ?? new MemoryTaskStore(),
      {
        // Under the key a cancel by request id computes (no session; the id is the task's key).
        track: (key, cancellation) => this.#inFlight.set(inFlightKey(undefined, key), cancellation),
        untrack: (key, cancellation) => {
          const inFlight = inFlightKey(undefined, key);
          if (this.#inFlight.get(inFlight) === cancellation) this.#inFlight.delete(inFlight);
        },
        cancelEverywhere: async (key, reason) => {
          if (!this.cancelRequest(undefined, key, reason)) await this.#link.cancelEverywhere(undefined, key, reason);
        },
        announceChange: (taskId) => this.#link.taskChanged(taskId),
      },
      options.taskOptions,
    );
    this.#stateless = new StatelessDispatcher({
      serverInfo: this.info,
      discover: () => this.discover(),
      cacheHints: options.cacheHints ?? { ttlMs: 0, cacheScope: 'private' },
      requestState: new RequestStateCodec(options.requestState),
      tasks: this.tasks,
      taskSupport: (name) => this.#tools.taskSupport(name),
      dispatch: (request, ctx) => this.#dispatch(request, ctx),
      context: (request, origin, exchange, cancellation, round, task) => this.#context(request, origin, exchange, cancellation, round, task),
      shuttingDown: () => this.#shutdown.signal.aborted,
      logger: options.logger,
    });
    this.#link = new ClusterLink(this.broker, this.instanceId, {
      onReply: (response) => this.#outbound.settle(response),
      onCancel: (sessionId, requestId, reason) => this.cancelRequest(sessionId, requestId, reason),
      onSessionChanged: (sessionId) => {
        if (this.sessions instanceof CachedSessionStore) this.sessions.invalidate(sessionId);
      },
      onTaskChanged: (taskId) => this.tasks.taskChanged(taskId),
    });
    if (this.sessions instanceof CachedSessionStore) {
      const link = this.#link;
      this.sessions.announceChangesWith((sessionId) => link.sessionChanged(sessionId));
    }
  }

  /**
   * Joins the cluster: listens for replies routed to this process and for broadcasts. `listen()`
   * calls it; call it yourself when you mount the HTTP handler on your own server.
   */
  start(): Promise<void> {
    return this.#link.start();
  }

  // ── registration ─────────────────────────────────────────────────────────────────────────

  tool<I extends ObjectSchema | undefined = undefined, O extends ObjectSchema | undefined = undefined>(
    name: string,
    definition: ToolDefinition<I, O>,
    handler: ToolHandler<I>,
  ): this {
    this.#tools.add(name, definition, handler);
    return this;
  }

  resource(uri: string, definition: ResourceDefinition, read: ResourceReader): this {
    this.#resources.add(uri, definition, read);
    return this;
  }

  resourceTemplate(uriTemplate: string, definition: ResourceTemplateDefinition, read: TemplateReader): this {
    this.#resources.addTemplate(uriTemplate, definition, read);
    return this;
  }

  prompt<A extends ObjectSchema | undefined = undefined>(
    name: string,
    definition: PromptDefinition<A>,
    handler: PromptHandler<A>,
  ): this {
    this.#prompts.add(name, definition, handler);
    return this;
  }

  removeTool(name: string): boolean {
    return this.#tools.remove(name);
  }

  // ── notifications from application code ──────────────────────────────────────────────────

  /**
   * Sends a notification (or any JSON-RPC message) to the GET stream of `sessionId`, wherever in
   * the cluster it is held. Resolves true when a subscriber received it, false when none was attached.
   */
  async notify(sessionId: string, message: JsonRpcMessage | { method: string; params?: Record<string, unknown> }): Promise<boolean> {
    const full = ('jsonrpc' in message ? message : { jsonrpc: '2.0', ...message }) as JsonRpcMessage;
    this.#metrics?.notificationPublished();
    let delivered: boolean;
    try {
      delivered = this.replay
        ? (await publishRetained(this.replay, this.broker, sessionId, GET_STREAM_ID, full)).delivered
        : await this.broker.publish(sessionId, { type: 'message', message: full });
    } catch (err) {
      // Broker or replay unreachable (Redis down: ioredis fails the command after its retries):
      // neither retained nor delivered, which is exactly what false means. Logged, not thrown.
      this.#notifyFailed(err, sessionId);
      delivered = false;
    }
    this.#metrics?.notificationSettled(delivered);
    return delivered;
  }

  /**
   * Sends a notification to every live session of the cluster, once each, on its GET stream.
   * Broadcasts are not retained for replay.
   */
  async broadcast(message: { method: string; params?: Record<string, unknown> }): Promise<void> {
    await this.#link.broadcast({ jsonrpc: '2.0', ...message } as JsonRpcMessage);
  }

  /** `notifications/tools/list_changed` to every live session and every listening stream. */
  async toolListChanged(): Promise<void> {
    await Promise.all([this.broadcast({ method: 'notifications/tools/list_changed' }), this.topics.publish(TOPICS.toolsListChanged, {})]);
  }

  /** `notifications/resources/list_changed` to every live session and every listening stream. */
  async resourceListChanged(): Promise<void> {
    await Promise.all([
      this.broadcast({ method: 'notifications/resources/list_changed' }),
      this.topics.publish(TOPICS.resourcesListChanged, {}),
    ]);
  }

  /** `notifications/prompts/list_changed` to every live session and every listening stream. */
  async promptListChanged(): Promise<void> {
    await Promise.all([this.broadcast({ method: 'notifications/prompts/list_changed' }), this.topics.publish(TOPICS.promptsListChanged, {})]);
  }

  /** Attaches a stream listener through the broker (the transport's GET handler uses this). */
  attachStream(key: string, listener: SseEventListener): Promise<void> {
    return this.#link.attachStream(key, listener);
  }

  detachStream(key: string, listener: SseEventListener): Promise<void> {
    return this.#link.detachStream(key, listener);
  }

  #notifyFailed(err: unknown, sessionId: string): void {
    this.#notifyFailures.count++;
    const now = Date.now();
    if (now - this.#notifyFailures.warnedAt < 1_000) return;
    this.#logger?.warn({ err, session: sessionId, failures: this.#notifyFailures.count }, 'notify failed: broker unavailable; resolved false');
    this.#notifyFailures = { count: 0, warnedAt: now };
  }

  /** Sends `notifications/resources/updated` to every session subscribed to `uri`; resolves to how many got it. */
  async resourceUpdated(uri: string): Promise<number> {
    const [sessionIds] = await Promise.all([this.sessions.subscribersOf(uri), this.topics.publish(TOPICS.resourceUpdated(uri), { uri })]);
    const delivered = await Promise.all(
      sessionIds.map((id) => this.notify(id, { method: 'notifications/resources/updated', params: { uri } })),
    );
    return delivered.filter(Boolean).length;
  }

  // ── lifecycle ────────────────────────────────────────────────────────────────────────────

  /** Handles `initialize`: negotiates the version, creates the session, answers with its id. */
  async openSession(request: JsonRpcRequest, principal: string | undefined): Promise<{ session: SessionRecord; response: JsonRpcResponse }> {
    const started = this.#metrics ? performance.now() : 0;
    const params = request.params ?? {};
    const clientInfo = params.clientInfo;
    const capabilities = params.capabilities;
    if (typeof clientInfo !== 'object' || clientInfo === null || typeof (clientInfo as ClientInfo).name !== 'string') {
      throw invalidParams('initialize needs clientInfo with a name');
    }
    if (capabilities !== undefined && (typeof capabilities !== 'object' || capabilities === null)) {
      throw invalidParams('capabilities must be an object');
    }
    const now = Date.now();
    const session: SessionRecord = {
      // 122 random bits, visible ASCII only (spec: session ids are cryptographically secure).
      id: randomUUID(),
      protocolVersion: negotiateVersion(params.protocolVersion),
      clientInfo: clientInfo as ClientInfo,
      clientCapabilities: (capabilities as Record<string, unknown> | undefined) ?? {},
      initialized: false,
      createdAt: now,
      lastSeenAt: now,
    };
    if (principal !== undefined) session.principal = principal;
    await this.sessions.create(session);
    const result: Record<string, unknown> = {
      protocolVersion: session.protocolVersion,
      capabilities: this.capabilities(),
      serverInfo: this.info,
    };
    if (this.instructions !== undefined) result.instructions = this.instructions;
    this.#metrics?.sessionOpened();
    this.#metrics?.requestObserved('initialize', (performance.now() - started) / 1000);
    return { session, response: success(request.id, result) };
  }

  /** Ends a session: forgets it and ends its GET stream wherever it is held. */
  async closeSession(sessionId: string): Promise<boolean> {
    const existed = await this.sessions.delete(sessionId);
    if (existed) this.#metrics?.sessionClosed();
    await this.broker.publish(sessionId, { type: 'end', reason: 'session-deleted' });
    await this.replay?.forget(sessionId);
    return existed;
  }

  /** What this server offers; the sessionless revision drops resource subscribe (subscriptions/listen replaces it). */
  capabilities(version?: string): Record<string, unknown> {
    if (version === STATELESS_VERSION) {
      return {
        tools: { listChanged: true },
        resources: { listChanged: true, subscribe: true },
        prompts: { listChanged: true },
        logging: {},
        completions: {},
        extensions: { [TASKS_EXTENSION]: {} },
      };
    }
    return {
      tools: { listChanged: true },
      resources: { subscribe: true, listChanged: true },
      prompts: { listChanged: true },
      logging: {},
      completions: {},
    };
  }

  /** Aborts every running handler and every pending server-to-client request. */
  async close(): Promise<void> {
    this.#shutdown.abort(new McpError(ErrorCode.InternalError, 'Server shutting down'));
    for (const cancellation of this.#inFlight.values()) cancellation.abort(this.#shutdown.signal.reason);
    this.#outbound.rejectAll(new McpError(ErrorCode.InternalError, 'Server shutting down'));
  }

  // ── dispatch ─────────────────────────────────────────────────────────────────────────────

  /**
   * Answers one request. Never throws: failures become JSON-RPC error responses. Resolves
   * undefined when the client cancelled it (spec: no response is sent for a cancelled request).
   */
  async handleRequest(request: JsonRpcRequest, origin: MessageOrigin, exchange: Exchange): Promise<JsonRpcResponse | undefined> {
    // Sessionless requests cannot be cancelled by id (their ids are only unique per client).
    const key = origin.stateless ? `~${++this.#statelessCount}` : inFlightKey(origin.session?.id, request.id);
    const started = this.#metrics ? performance.now() : 0;
    // The transport may cancel it too (a closed stateless connection), like notifications/cancelled.
    const cancellation = exchange.cancellation ?? new Cancellation();
    // One cancellation per request: shutdown aborts every in-flight one (cheaper than AbortSignal.any).
    if (this.#shutdown.signal.aborted) cancellation.abort(this.#shutdown.signal.reason);
    this.#inFlight.set(key, cancellation);
    try {
      if (request.method === 'initialize') throw invalidRequest('initialize is only valid as the first request of a session');
      if (origin.session && !origin.session.initialized && request.method !== 'ping') {
        throw invalidRequest('The session is not initialized yet: send notifications/initialized first');
      }
      if (origin.stateless) return success(request.id, await this.#stateless.dispatch(request, origin, exchange, cancellation));
      const ctx = this.#context(request, origin, exchange, cancellation, undefined);
      const result = await this.#dispatch(request, ctx);
      cancellation.throwIfAborted();
      return success(request.id, result);
    } catch (err) {
      if (cancellation.aborted && !this.#shutdown.signal.aborted) return undefined;
      return failure(request.id, toErrorObject(err));
    } finally {
      if (this.#inFlight.get(key) === cancellation) this.#inFlight.delete(key);
      this.#metrics?.requestObserved(request.method, (performance.now() - started) / 1000);
    }
  }

  async handleNotification(notification: JsonRpcNotification, origin: MessageOrigin): Promise<void> {
    const params = notification.params ?? {};
    switch (notification.method) {
      case 'notifications/initialized':
        if (origin.session && !origin.session.initialized) {
          await this.sessions.update(origin.session.id, { initialized: true });
        }
        return;
      case 'notifications/cancelled': {
        const requestId = params.requestId;
        if (typeof requestId !== 'string' && typeof requestId !== 'number') return;
        const reason = typeof params.reason === 'string' ? params.reason : 'Cancelled by the client';
        // Not running here: it may run on another worker.
        if (!this.cancelRequest(origin.session?.id, requestId, reason)) {
          await this.#link.cancelEverywhere(origin.session?.id, requestId, reason);
        }
        return;
      }
      default:
        // spec: unknown notifications are ignored.
        return;
    }
  }

  /** Aborts a request running in this process; false when it does not run here. */
  cancelRequest(sessionId: string | undefined, requestId: JsonRpcId, reason: string): boolean {
    const cancellation = this.#inFlight.get(inFlightKey(sessionId, requestId));
    if (!cancellation) return false;
    cancellation.abort(new McpError(ErrorCode.RequestTimeout, reason));
    return true;
  }

  /**
   * A client's reply to a server-to-client request: settled here, routed to the worker whose
   * handler waits for it, or `orphaned` when that worker is gone or nobody waits.
   */
  async handleResponse(response: JsonRpcResponse): Promise<'settled' | 'routed' | 'orphaned'> {
    if (this.#outbound.settle(response)) return 'settled';
    const owner = OutboundRequests.ownerOf(response.id);
    if (owner === undefined || owner === this.instanceId) return 'orphaned';
    return (await this.#link.routeReply(owner, response)) ? 'routed' : 'orphaned';
  }

  /** Methods of the 2026-07-28 revision; the session-era ones it removed are unknown there. */
  static readonly STATELESS_METHODS: ReadonlySet<string> = STATELESS_METHODS;

  /** The `x-mcp-header` properties of a tool, for the transport's Mcp-Param-* checks. */
  toolHeaderParams(name: string): HeaderParam[] {
    return this.#tools.headerParams(name);
  }

  /** server/discover: what initialize used to tell, on demand. */
  discover(): Record<string, unknown> {
    return {
      supportedVersions: [...STATELESS_VERSIONS],
      capabilities: this.capabilities(STATELESS_VERSION),
      _meta: { [META_SERVER_INFO]: this.info, ...(this.instructions === undefined ? {} : { instructions: this.instructions }) },
    };
  }

  async #dispatch(request: JsonRpcRequest, ctx: RequestContext): Promise<Record<string, unknown>> {
    const params = request.params;
    switch (request.method) {
      case 'ping':
        return {};
      case 'tools/list': {
        const page = paginate(this.#tools.list(), params?.cursor, this.#pageSize);
        return withCursor({ tools: page.items }, page.nextCursor);
      }
      case 'tools/call':
        return { ...(await this.#tools.call(params, ctx)) };
      case 'resources/list': {
        const page = paginate(this.#resources.list(), params?.cursor, this.#pageSize);
        return withCursor({ resources: page.items }, page.nextCursor);
      }
      case 'resources/templates/list': {
        const page = paginate(this.#resources.listTemplates(), params?.cursor, this.#pageSize);
        return withCursor({ resourceTemplates: page.items }, page.nextCursor);
      }
      case 'resources/read':
        return { ...(await this.#resources.read(requireString(params, 'uri'), ctx)) };
      case 'resources/subscribe':
      case 'resources/unsubscribe':
        return this.#changeSubscription(request.method, requireString(params, 'uri'), ctx);
      case 'prompts/list': {
        const page = paginate(this.#prompts.list(), params?.cursor, this.#pageSize);
        return withCursor({ prompts: page.items }, page.nextCursor);
      }
      case 'prompts/get':
        return { ...(await this.#prompts.get(params, ctx)) };
      case 'completion/complete':
        return this.#complete(params);
      case 'logging/setLevel': {
        const level = params?.level;
        if (!isLoggingLevel(level)) throw invalidParams(`Unknown logging level: ${String(level)}`);
        if (ctx.sessionId) await this.sessions.update(ctx.sessionId, { logLevel: level });
        return {};
      }
      default:
        throw methodNotFound(request.method);
    }
  }

  async #changeSubscription(method: string, uri: string, ctx: RequestContext): Promise<Record<string, unknown>> {
    if (!ctx.sessionId) throw invalidRequest('Resource subscriptions need a session');
    if (method === 'resources/subscribe') {
      if (!this.#resources.has(uri)) throw new McpError(ErrorCode.ResourceNotFound, 'Resource not found', { data: { uri } });
      await this.sessions.subscribeResource(ctx.sessionId, uri);
    } else {
      await this.sessions.unsubscribeResource(ctx.sessionId, uri);
    }
    return {};
  }

  async #complete(params: Record<string, unknown> | undefined): Promise<Record<string, unknown>> {
    const ref = params?.ref as Record<string, unknown> | undefined;
    const argument = params?.argument as Record<string, unknown> | undefined;
    if (!ref || typeof ref.type !== 'string') throw invalidParams('completion/complete needs a ref');
    if (!argument || typeof argument.name !== 'string' || typeof argument.value !== 'string') {
      throw invalidParams('completion/complete needs argument.name and argument.value');
    }
    const context = (params?.context as { arguments?: Record<string, string> } | undefined)?.arguments ?? {};
    let completer;
    if (ref.type === 'ref/prompt' && typeof ref.name === 'string') {
      if (!this.#prompts.has(ref.name)) throw invalidParams(`Unknown prompt: ${ref.name}`);
      completer = this.#prompts.completer(ref.name, argument.name);
    } else if (ref.type === 'ref/resource' && typeof ref.uri === 'string') {
      if (!this.#resources.hasTemplate(ref.uri)) throw invalidParams(`Unknown resource template: ${ref.uri}`);
      completer = this.#resources.completer(ref.uri, argument.name);
    } else {
      throw invalidParams(`Unsupported completion ref: ${ref.type}`);
    }
    if (!completer) return { completion: { values: [], hasMore: false } };
    const produced = await completer(argument.value, { arguments: context });
    const full: CompletionResult = Array.isArray(produced) ? { values: produced } : produced;
    const values = full.values.slice(0, COMPLETION_LIMIT);
    const completion: Record<string, unknown> = { values };
    completion.total = full.total ?? full.values.length;
    completion.hasMore = full.hasMore ?? full.values.length > values.length;
    return { completion };
  }

  #context(
    request: JsonRpcRequest,
    origin: MessageOrigin,
    exchange: Exchange,
    cancellation: Cancellation,
    round: InputRound | undefined,
    task?: TaskStarter,
  ): RequestContext {
    return new HandlerContext({
      task,
      request,
      origin,
      exchange,
      cancellation,
      round,
      outbound: this.#outbound,
      requestTimeoutMs: this.#requestTimeoutMs,
    });
  }
}

export function createMcpServer(options: McpServerOptions): McpServer {
  return new McpServer(options);
}

function inFlightKey(sessionId: string | undefined, requestId: JsonRpcId): string {
  return `${sessionId ?? ''}\u0000${typeof requestId}:${requestId}`;
}

function withCursor(result: Record<string, unknown>, nextCursor: string | undefined): Record<string, unknown> {
  if (nextCursor !== undefined) result.nextCursor = nextCursor;
  return result;
}

function requireString(params: Record<string, unknown> | undefined, name: string): string {
  const value = params?.[name];
  if (typeof value !== 'string') throw invalidParams(`${name} must be a string`);
  return value;
}

