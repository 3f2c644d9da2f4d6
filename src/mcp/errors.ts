// Every protocol failure has one class with a stable JSON-RPC code and the HTTP status the
// transport answers with when the failure happens before a JSON-RPC response can carry it.

import type { JsonRpcErrorObject } from './jsonrpc.ts';

export const ErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  /** MCP: the requested resource does not exist (2025 era; 2026 uses InvalidParams). */
  ResourceNotFound: -32002,
  /** Server-side: a server-to-client request timed out or its connection went away. */
  RequestTimeout: -32001,
  /** 2026-07-28: a mirrored header (MCP-Protocol-Version, Mcp-Method, Mcp-Name…) disagrees with the body. */
  HeaderMismatch: -32020,
  /** 2026-07-28: the request needs a client capability it did not declare. */
  MissingCapability: -32021,
  /** 2026-07-28: the requested protocol version is not supported. */
  UnsupportedProtocolVersion: -32022,
  /** MCP 2025-11-25: the client must complete a URL elicitation first. */
  UrlElicitationRequired: -32042,
} as const;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

export class McpError extends Error {
  readonly code: number;
  readonly data: unknown;
  /** HTTP status used when this error is the whole answer to an HTTP request. */
  readonly httpStatus: number;

  constructor(code: number, message: string, options: { data?: unknown; httpStatus?: number } = {}) {
    super(message);
    this.name = 'McpError';
    this.code = code;
    this.data = options.data;
    this.httpStatus = options.httpStatus ?? 400;
  }

  toJsonRpc(): JsonRpcErrorObject {
    return this.data === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, data: this.data };
  }
}

export const invalidParams = (message: string, data?: unknown) =>
  new McpError(ErrorCode.InvalidParams, message, { data });
export const methodNotFound = (method: string) =>
  new McpError(ErrorCode.MethodNotFound, `Method not found: ${method}`, { httpStatus: 404 });
export const invalidRequest = (message: string, httpStatus = 400) =>
  new McpError(ErrorCode.InvalidRequest, message, { httpStatus });

/** Turns anything a handler threw into a JSON-RPC error object, without leaking internals. */
export function toErrorObject(err: unknown): JsonRpcErrorObject {
  if (err instanceof McpError) return err.toJsonRpc();
  return { code: ErrorCode.InternalError, message: 'Internal error' };
}
