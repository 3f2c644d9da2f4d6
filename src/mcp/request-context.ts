// The request context a handler receives, built the same way whichever protocol era produced
// the request: what it may send, ask and log goes through the exchange the transport gave.

import type { Exchange, MessageOrigin, RequestContext, ServerRequestOptions } from './context.ts';
import { ErrorCode, McpError } from './errors.ts';
import type { JsonRpcMessage, JsonRpcRequest } from './jsonrpc.ts';
import { passesLevel, type LoggingLevel } from './logging.ts';
import type { OutboundRequests } from './outbound.ts';
import type { InputRound } from './request-state.ts';
import type { ClientInfo } from '../sessions/store.ts';

export interface ContextSources {
  request: JsonRpcRequest;
  origin: MessageOrigin;
  exchange: Exchange;
  signal: AbortSignal;
  /** Sessionless era: the input round this run of the handler belongs to. */
  round: InputRound | undefined;
  /** Session era: where server-to-client requests wait for their replies. */
  outbound: OutboundRequests;
  requestTimeoutMs: number;
}

export function createRequestContext({ request, origin, exchange, signal, round, outbound, requestTimeoutMs }: ContextSources): RequestContext {
  const session = origin.session;
  const stateless = origin.stateless;
  const meta = request.params?._meta as Record<string, unknown> | undefined;
  const progressToken = meta?.progressToken;
  const capabilities = stateless?.clientCapabilities ?? session?.clientCapabilities ?? {};
  // Sessionless: log only what the request asked for; in a session, what logging/setLevel set.
  const logThreshold = stateless ? stateless.logLevel : session?.logLevel;
  const send = (message: JsonRpcMessage) => exchange.send(message);
  const notify = (method: string, params?: Record<string, unknown>) =>
    send(params === undefined ? { jsonrpc: '2.0', method } : { jsonrpc: '2.0', method, params });
  const serverRequest = (method: string, params: Record<string, unknown> | undefined, options: ServerRequestOptions = {}) => {
    // Sessionless: no server-to-client requests; the question becomes an input round trip.
    if (stateless) {
      if (!round) throw new McpError(ErrorCode.InvalidRequest, `${method} is only possible from tools/call, prompts/get or resources/read`);
      return round.ask(method, params, options.key);
    }
    const signals = options.signal ? AbortSignal.any([signal, options.signal]) : signal;
    return outbound.issue(method, params, send, { timeoutMs: options.timeoutMs ?? requestTimeoutMs, signal: signals });
  };
  const requireCapability = (capability: string, method: string) => {
    if (capabilities[capability] === undefined) {
      const message = `The client did not declare the ${capability} capability needed for ${method}`;
      if (stateless) {
        throw new McpError(ErrorCode.MissingCapability, message, { httpStatus: 400, data: { requiredCapabilities: { [capability]: {} } } });
      }
      throw new McpError(ErrorCode.InvalidRequest, message);
    }
  };
  return {
    requestId: request.id,
    method: request.method,
    protocolVersion: origin.protocolVersion,
    sessionId: session?.id,
    clientInfo: (stateless ? stateless.clientInfo : session?.clientInfo) as ClientInfo | undefined,
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
      if (stateless && logThreshold === undefined) return;
      // spec 2025: without logging/setLevel the server decides what to send; we send everything.
      if (logThreshold && !passesLevel(level, logThreshold)) return;
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
