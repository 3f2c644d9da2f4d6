// What the three /mcp handlers share: the server, the limits, the open streams, the logger.

import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { McpServer } from '../mcp/server.ts';
import type { SseStream } from './sse.ts';
import type { OriginPolicy } from './guards.ts';

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
  logger?: Logger;
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
  logger: Logger | undefined;
  /** Every SSE stream this process holds, so shutdown can end them with a retry hint. */
  streams: Set<SseStream>;
  /** True once shutdown began: new requests get 503. */
  draining: boolean;
}
