// What the three /mcp handlers share: the server, the limits, the open streams, the logger.

import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { McpServer } from '../mcp/server.ts';
import type { SseStream } from './sse.ts';
import type { OriginPolicy } from './guards.ts';
import type { ReadinessCheck } from './ops.ts';
import type { HttpMetrics, TransportMetrics } from '../metrics/hooks.ts';
import type { ProtectedResourceOptions } from './auth.ts';
import type { SessionLimit } from './limits.ts';

export interface HttpOptions {
  /** Default '/mcp'. */
  path?: string;
  /** Largest accepted request body. Default 4 MiB. */
  maxBodyBytes?: number;
  /** SSE heartbeat interval. Default 15 s. */
  heartbeatMs?: number;
  /** `retry:` hint (ms) sent with priming events and when the server ends a stream. Default 1000. */
  retryMs?: number;
  /**
   * SSE polling (spec 2025-11-25, needs replay): end standalone GET streams after this many ms
   * with a retry hint; clients come back with Last-Event-ID. 0 (default) keeps them open.
   */
  ssePollMs?: number;
  /** Open `subscriptions/listen` streams per worker before new ones get 503. Default 10,000. */
  maxListeners?: number;
  /** Unsent bytes after which a slow SSE consumer is cut off. Default 8 MiB. */
  maxStreamBufferBytes?: number;
  /**
   * Answer requests with plain JSON unless a handler sends a related message first. Default
   * false: every request is answered on an SSE stream, which related messages can join.
   */
  jsonResponse?: boolean;
  /** Sent as `mcp-worker-id` on every /mcp response, so operators and tests see who answered. */
  workerId?: string;
  originPolicy?: OriginPolicy;
  /** Resolves the caller's principal; throw an McpError with httpStatus 401 to refuse. */
  authenticate?: (req: IncomingMessage) => Promise<string | undefined> | string | undefined;
  /**
   * RFC 9728 metadata served at /.well-known/oauth-protected-resource (and its /mcp-suffixed
   * variant), and named by `WWW-Authenticate` on every 401. Served whenever `authenticate` is set.
   */
  protectedResource?: ProtectedResourceOptions;
  /** GET streams this worker holds at most; more get 503 + Retry-After. Default 0: unlimited. */
  maxStreams?: number;
  /** Sessions this worker opens at most; more initializes get 503 + Retry-After. Default 0: unlimited. */
  maxSessions?: number;
  logger?: Logger;
  /** Serves /metrics and counts replay resumes (src/metrics). Without it, /metrics is 404. */
  metrics?: HttpMetrics;
  /** Extra /readyz checks (e.g. the broker's connections); /readyz is 503 unless all are true. */
  readiness?: ReadinessCheck;
}

export interface Transport {
  server: McpServer;
  maxBodyBytes: number;
  heartbeatMs: number;
  jsonResponse: boolean;
  retryMs: number;
  ssePollMs: number;
  maxStreamBufferBytes: number;
  baseHeaders: Record<string, string>;
  originPolicy: OriginPolicy | undefined;
  authenticate: HttpOptions['authenticate'];
  /** Present with `maxSessions`: initialize reserves a slot, DELETE frees it. */
  sessionLimit: SessionLimit | undefined;
  logger: Logger | undefined;
  metrics: TransportMetrics | undefined;
  /** Every SSE stream this process holds, so shutdown can end them with a retry hint. */
  streams: Set<SseStream>;
  maxListeners: number;
  /** Open `subscriptions/listen` streams of this worker. */
  listeners: number;
  /** True once shutdown began: new requests get 503. */
  draining: boolean;
}
