// mcp-cluster's library entry: the protocol engine, its HTTP transport, and the pluggable
// backends (brokers and session stores) that let many workers serve one set of sessions.

export { createMcpServer, McpServer, type McpServerOptions, type MessageOrigin } from './mcp/server.ts';
export type { RequestContext, Exchange, ServerRequestOptions } from './mcp/context.ts';
export { McpError, ErrorCode } from './mcp/errors.ts';
export type * from './mcp/types.ts';
export type { JsonRpcMessage, JsonRpcRequest, JsonRpcNotification, JsonRpcResponse, JsonRpcId } from './mcp/jsonrpc.ts';
export { LOGGING_LEVELS, type LoggingLevel } from './mcp/logging.ts';
export type { ToolDefinition, ToolHandler } from './mcp/registry/tools.ts';
export type { ResourceDefinition, ResourceTemplateDefinition, ResourceReader, TemplateReader } from './mcp/registry/resources.ts';
export type { PromptDefinition, PromptHandler } from './mcp/registry/prompts.ts';

export { createMcpHttpApp, listen, type McpHttpApp, type ListenOptions } from './http/app.ts';
export type { HttpOptions } from './http/transport.ts';
export { defaultOriginPolicy, type OriginPolicy } from './http/guards.ts';

export type { SseBroker, SseEvent, SseEventListener, EndReason, BusMessage, BusListener } from './broker/broker.ts';
export { MemoryBroker } from './broker/memory.ts';
export { RedisBroker, type RedisBrokerOptions } from './broker/redis.ts';

export type { SessionStore, SessionRecord, SessionPatch, ClientInfo } from './sessions/store.ts';
export { MemorySessionStore, type MemorySessionStoreOptions } from './sessions/memory.ts';
export { RedisSessionStore, type RedisSessionStoreOptions } from './sessions/redis.ts';

export { createNotifier, type Notifier, type NotifierOptions } from './notifier.ts';

export { Metrics, type MetricsOptions } from './metrics/metrics.ts';
export type { ServerMetrics, TransportMetrics, HttpMetrics, MetricsExposition } from './metrics/hooks.ts';

export type { ReplayBuffer, ReplayEntry, ReplayOutcome } from './replay/replay.ts';
export { MemoryReplayBuffer, type ReplayLimits } from './replay/memory.ts';
export { RedisReplayBuffer, type RedisReplayBufferOptions } from './replay/redis.ts';

export type { SubscriptionBroker, TopicListener } from './topics/topics.ts';
export { MemorySubscriptionBroker } from './topics/memory.ts';
export { RedisSubscriptionBroker, type RedisSubscriptionBrokerOptions } from './topics/redis.ts';

export type { RequestStateOptions } from './mcp/request-state.ts';
export { STATELESS_VERSION } from './mcp/stateless.ts';

export { ToolPool } from './pool/pool.ts';
export { poolTool } from './pool/tool.ts';
export { PoolError, PoolQueueFullError, PoolClosedError } from './pool/errors.ts';
