// The protocol engine: registration, lifecycle and dispatch of MCP methods. It knows nothing of
// HTTP: transports hand it messages with an origin (who asks, in which session and version) and
// an exchange (where related messages go), and it answers with JSON-RPC responses.

import { randomBytes, randomUUID } from 'node:crypto';
import type { SseBroker, SseEventListener } from '../broker/broker.ts';
import { ClusterLink } from './cluster-link.ts';
import { MemoryBroker } from '../broker/memory.ts';
import { MemorySessionStore } from '../sessions/memory.ts';
import { GET_STREAM_ID, publishRetained, type ReplayBuffer } from '../replay/replay.ts';
import type { ClientInfo, SessionRecord, SessionStore } from '../sessions/store.ts';
import type { Exchange, RequestContext, ServerRequestOptions } from './context.ts';
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
import { isLoggingLevel, passesLevel, type LoggingLevel } from './logging.ts';
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
  /** Items per page of the list methods. Default 100. */
  pageSize?: number;
  /** How long a server-to-client request waits for the client's reply. Default 60 s. */
  requestTimeoutMs?: number;
  /** Unique per process in a cluster: it prefixes server-issued request ids. Default: random. */
  instanceId?: string;
}

/** Who sent a message and in which protocol context. */
export interface MessageOrigin {
  protocolVersion: string;
  session: SessionRecord | undefined;
  principal: string | undefined;
}

const COMPLETION_LIMIT = 100;

export class McpServer {
  readonly info: { name: string; version: string; title?: string; description?: string; websiteUrl?: string; icons?: Icon[] };
  readonly instructions: string | undefined;
  readonly broker: SseBroker;
  readonly sessions: SessionStore;
  readonly replay: ReplayBuffer | undefined;
  readonly instanceId: string;
  readonly #tools = new ToolRegistry();
  readonly #resources = new ResourceRegistry();
  readonly #prompts = new PromptRegistry();
  readonly #outbound: OutboundRequests;
  readonly #inFlight = new Map<string, AbortController>();
  readonly #pageSize: number;
  readonly #requestTimeoutMs: number;
  readonly #shutdown = new AbortController();
  readonly #link: ClusterLink;

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
    this.instanceId = options.instanceId ?? randomBytes(6).toString('hex');
    this.#outbound = new OutboundRequests(this.instanceId);
    this.#pageSize = options.pageSize ?? 100;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
    this.#link = new ClusterLink(this.broker, this.instanceId, {
      onReply: (response) => this.#outbound.settle(response),
      onCancel: (sessionId, requestId, reason) => this.cancelRequest(sessionId, requestId, reason),
    });
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
    if (this.replay) return (await publishRetained(this.replay, this.broker, sessionId, GET_STREAM_ID, full)).delivered;
    return this.broker.publish(sessionId, { type: 'message', message: full });
  }

  /**
   * Sends a notification to every live session of the cluster, once each, on its GET stream.
   * Broadcasts are not retained for replay.
   */
  async broadcast(message: { method: string; params?: Record<string, unknown> }): Promise<void> {
    await this.#link.broadcast({ jsonrpc: '2.0', ...message } as JsonRpcMessage);
  }

  /** `notifications/tools/list_changed` to every live session. */
  toolListChanged(): Promise<void> {
    return this.broadcast({ method: 'notifications/tools/list_changed' });
  }

  /** `notifications/resources/list_changed` to every live session. */
  resourceListChanged(): Promise<void> {
    return this.broadcast({ method: 'notifications/resources/list_changed' });
  }

  /** `notifications/prompts/list_changed` to every live session. */
  promptListChanged(): Promise<void> {
    return this.broadcast({ method: 'notifications/prompts/list_changed' });
  }

  /** Attaches a stream listener through the broker (the transport's GET handler uses this). */
  attachStream(key: string, listener: SseEventListener): Promise<void> {
    return this.#link.attachStream(key, listener);
  }

  detachStream(key: string, listener: SseEventListener): Promise<void> {
    return this.#link.detachStream(key, listener);
  }

  /** Sends `notifications/resources/updated` to every session subscribed to `uri`; resolves to how many got it. */
  async resourceUpdated(uri: string): Promise<number> {
    const sessionIds = await this.sessions.subscribersOf(uri);
    const delivered = await Promise.all(
      sessionIds.map((id) => this.notify(id, { method: 'notifications/resources/updated', params: { uri } })),
    );
    return delivered.filter(Boolean).length;
  }

  // ── lifecycle ────────────────────────────────────────────────────────────────────────────

  /** Handles `initialize`: negotiates the version, creates the session, answers with its id. */
  async openSession(request: JsonRpcRequest, principal: string | undefined): Promise<{ session: SessionRecord; response: JsonRpcResponse }> {
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
    return { session, response: success(request.id, result) };
  }

  /** Ends a session: forgets it and ends its GET stream wherever it is held. */
  async closeSession(sessionId: string): Promise<boolean> {
    const existed = await this.sessions.delete(sessionId);
    await this.broker.publish(sessionId, { type: 'end', reason: 'session-deleted' });
    await this.replay?.forget(sessionId);
    return existed;
  }

  capabilities(): Record<string, unknown> {
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
    this.#outbound.rejectAll(new McpError(ErrorCode.InternalError, 'Server shutting down'));
  }

  // ── dispatch ─────────────────────────────────────────────────────────────────────────────

  /**
   * Answers one request. Never throws: failures become JSON-RPC error responses. Resolves
   * undefined when the client cancelled it (spec: no response is sent for a cancelled request).
   */
  async handleRequest(request: JsonRpcRequest, origin: MessageOrigin, exchange: Exchange): Promise<JsonRpcResponse | undefined> {
    const key = inFlightKey(origin.session?.id, request.id);
    const controller = new AbortController();
    const signal = AbortSignal.any([controller.signal, this.#shutdown.signal]);
    this.#inFlight.set(key, controller);
    try {
      if (request.method === 'initialize') throw invalidRequest('initialize is only valid as the first request of a session');
      if (origin.session && !origin.session.initialized && request.method !== 'ping') {
        throw invalidRequest('The session is not initialized yet: send notifications/initialized first');
      }
      const ctx = this.#context(request, origin, exchange, signal);
      const result = await this.#dispatch(request, ctx);
      signal.throwIfAborted();
      return success(request.id, result);
    } catch (err) {
      if (controller.signal.aborted) return undefined;
      return failure(request.id, toErrorObject(err));
    } finally {
      if (this.#inFlight.get(key) === controller) this.#inFlight.delete(key);
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
    const controller = this.#inFlight.get(inFlightKey(sessionId, requestId));
    if (!controller) return false;
    controller.abort(new McpError(ErrorCode.RequestTimeout, reason));
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

  #context(request: JsonRpcRequest, origin: MessageOrigin, exchange: Exchange, signal: AbortSignal): RequestContext {
    const session = origin.session;
    const meta = request.params?._meta as Record<string, unknown> | undefined;
    const progressToken = meta?.progressToken;
    const capabilities = session?.clientCapabilities ?? {};
    const send = (message: JsonRpcMessage) => exchange.send(message);
    const notify = (method: string, params?: Record<string, unknown>) =>
      send(params === undefined ? { jsonrpc: '2.0', method } : { jsonrpc: '2.0', method, params });
    const serverRequest = (method: string, params: Record<string, unknown> | undefined, options: ServerRequestOptions = {}) => {
      const signals = options.signal ? AbortSignal.any([signal, options.signal]) : signal;
      return this.#outbound.issue(method, params, send, { timeoutMs: options.timeoutMs ?? this.#requestTimeoutMs, signal: signals });
    };
    const requireCapability = (capability: string, method: string) => {
      if (capabilities[capability] === undefined) {
        throw new McpError(ErrorCode.InvalidRequest, `The client did not declare the ${capability} capability needed for ${method}`);
      }
    };
    return {
      requestId: request.id,
      method: request.method,
      protocolVersion: origin.protocolVersion,
      sessionId: session?.id,
      clientInfo: session?.clientInfo,
      clientCapabilities: capabilities,
      principal: origin.principal,
      meta,
      signal,
      closeSseStream: (retryMs) => exchange.closeStream?.(retryMs) ?? false,
      notify,
      progress: async (progress, total, message) => {
        if (typeof progressToken !== 'string' && typeof progressToken !== 'number') return;
        const params: Record<string, unknown> = { progressToken, progress };
        if (total !== undefined) params.total = total;
        if (message !== undefined) params.message = message;
        await notify('notifications/progress', params);
      },
      log: async (level: LoggingLevel, data: unknown, logger?: string) => {
        // spec: without logging/setLevel the server decides what to send; we send everything.
        if (session?.logLevel && !passesLevel(level, session.logLevel)) return;
        const params: Record<string, unknown> = { level, data };
        if (logger !== undefined) params.logger = logger;
        await notify('notifications/message', params);
      },
      request: (method, params, options) => serverRequest(method, params, options),
      elicit: (params, options) => {
        requireCapability('elicitation', 'elicitation/create');
        return serverRequest('elicitation/create', params, options);
      },
      sample: (params, options) => {
        requireCapability('sampling', 'sampling/createMessage');
        return serverRequest('sampling/createMessage', params, options);
      },
      listRoots: (options) => {
        requireCapability('roots', 'roots/list');
        return serverRequest('roots/list', undefined, options);
      },
    };
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

