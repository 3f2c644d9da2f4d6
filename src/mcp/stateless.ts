// The 2026-07-28 revision: no sessions, no initialize. Every request carries its protocol
// version and the client's capabilities in `_meta`, and mirrors its method (and name) in
// headers. This module recognises such requests and validates what they carry, in the order the
// revision pins: envelope, version header, Mcp-Method, supported version.

import type { IncomingMessage } from 'node:http';
import { ErrorCode, McpError } from './errors.ts';
import type { JsonRpcRequest } from './jsonrpc.ts';
import { isLoggingLevel, type LoggingLevel } from './logging.ts';
import { SESSION_ERA_VERSIONS } from './versions.ts';
import { mirroredValue, type HeaderParam } from './registry/header-params.ts';

export const STATELESS_VERSION = '2026-07-28';
export const STATELESS_VERSIONS: readonly string[] = [STATELESS_VERSION];

export const META_PROTOCOL_VERSION = 'io.modelcontextprotocol/protocolVersion';
export const META_CLIENT_CAPABILITIES = 'io.modelcontextprotocol/clientCapabilities';
export const META_CLIENT_INFO = 'io.modelcontextprotocol/clientInfo';
export const META_LOG_LEVEL = 'io.modelcontextprotocol/logLevel';
export const META_SERVER_INFO = 'io.modelcontextprotocol/serverInfo';
export const META_SUBSCRIPTION_ID = 'io.modelcontextprotocol/subscriptionId';

/** Versions a session-era client may send in MCP-Protocol-Version (plus the oldest). */
const SESSION_ERA_HEADERS = new Set<string>([...SESSION_ERA_VERSIONS, '2024-11-05']);

/** What a stateless request says about its client. */
export interface StatelessMeta {
  protocolVersion: string;
  clientCapabilities: Record<string, unknown>;
  clientInfo: Record<string, unknown> | undefined;
  /** Log threshold for this request only; without it the server sends no notifications/message. */
  logLevel: LoggingLevel | undefined;
}

function claimsStateless(message: unknown): boolean {
  const meta = (message as { params?: { _meta?: unknown } } | null)?.params?._meta;
  return typeof meta === 'object' && meta !== null && META_PROTOCOL_VERSION in meta;
}

/**
 * A POSTed message is of the stateless era when its `_meta` claims a protocol version, or when
 * its MCP-Protocol-Version header names a revision that is not a session-era one.
 */
export function isStatelessMessage(req: IncomingMessage, body: unknown): boolean {
  if (Array.isArray(body)) return body.some(claimsStateless);
  if (claimsStateless(body)) return true;
  const header = req.headers['mcp-protocol-version'];
  return typeof header === 'string' && !SESSION_ERA_HEADERS.has(header);
}

/** GET and DELETE have no meaning in the stateless era (405). */
export function isStatelessHeader(req: IncomingMessage): boolean {
  const header = req.headers['mcp-protocol-version'];
  return typeof header === 'string' && (STATELESS_VERSIONS as readonly string[]).includes(header);
}

/** Validates the envelope of a stateless request against its headers (first failure wins). */
export function readStatelessMeta(request: JsonRpcRequest, req: IncomingMessage): StatelessMeta {
  const meta = request.params?._meta;
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) {
    throw badEnvelope(`Invalid params: missing _meta (every request carries ${META_PROTOCOL_VERSION} and ${META_CLIENT_CAPABILITIES})`);
  }
  const record = meta as Record<string, unknown>;
  const version = record[META_PROTOCOL_VERSION];
  const capabilities = record[META_CLIENT_CAPABILITIES];
  if (typeof version !== 'string') throw badEnvelope(`Invalid params: missing _meta["${META_PROTOCOL_VERSION}"]`);
  if (typeof capabilities !== 'object' || capabilities === null || Array.isArray(capabilities)) {
    throw badEnvelope(`Invalid params: missing _meta["${META_CLIENT_CAPABILITIES}"]`);
  }
  const header = req.headers['mcp-protocol-version'];
  if (typeof header !== 'string') throw mismatch('MCP-Protocol-Version header is required');
  if (header !== version) throw mismatch(`Header mismatch: MCP-Protocol-Version "${header}" does not match _meta "${version}"`);
  const method = req.headers['mcp-method'];
  if (typeof method === 'string' && method !== request.method) {
    throw mismatch(`Header mismatch: Mcp-Method "${method}" does not match method "${request.method}"`);
  }
  if (!STATELESS_VERSIONS.includes(version)) {
    throw new McpError(ErrorCode.UnsupportedProtocolVersion, 'Unsupported protocol version', {
      httpStatus: 400,
      data: { supported: [...STATELESS_VERSIONS], requested: version },
    });
  }
  if (typeof method !== 'string') throw mismatch('Mcp-Method header is required');
  const level = record[META_LOG_LEVEL];
  if (level !== undefined && !isLoggingLevel(level)) throw badEnvelope(`Invalid params: unknown log level ${String(level)}`);
  const info = record[META_CLIENT_INFO];
  return {
    protocolVersion: version,
    clientCapabilities: capabilities as Record<string, unknown>,
    clientInfo: typeof info === 'object' && info !== null ? (info as Record<string, unknown>) : undefined,
    logLevel: level as LoggingLevel | undefined,
  };
}

/** The body value Mcp-Name mirrors, for the methods that have one. */
export function mirroredName(request: JsonRpcRequest): string | undefined {
  const params = request.params ?? {};
  const value =
    request.method === 'tools/call' || request.method === 'prompts/get'
      ? params.name
      : request.method === 'resources/read'
        ? params.uri
        : request.method.startsWith('tasks/')
          ? params.taskId
          : undefined;
  return typeof value === 'string' ? value : undefined;
}

/** Mcp-Name must be present when the body has the value, and equal it (after =?base64?…?= decoding). */
export function checkMirroredName(request: JsonRpcRequest, req: IncomingMessage): void {
  const expected = mirroredName(request);
  if (expected === undefined) return;
  const header = req.headers['mcp-name'];
  if (typeof header !== 'string') throw mismatch(`Mcp-Name header is required for ${request.method}`);
  const actual = decodeHeaderValue(header);
  if (actual !== expected) throw mismatch(`Header mismatch: Mcp-Name "${header}" does not match "${expected}"`);
}

/**
 * Header values may wrap non-ASCII text as `=?base64?<canonical base64>?=`; anything else is
 * literal. Malformed base64 or UTF-8 is a mismatch.
 */
export function decodeHeaderValue(value: string): string {
  if (!/^[\x20-\x7e\t]*$/.test(value)) throw mismatch('Header values must be visible ASCII');
  if (!(value.startsWith('=?base64?') && value.endsWith('?=') && value.length >= 11)) return value;
  const encoded = value.slice('=?base64?'.length, -2);
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(encoded)) {
    throw mismatch('Header value is not canonical base64');
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(encoded, 'base64'));
  } catch {
    throw mismatch('Header value is not valid UTF-8');
  }
}

function badEnvelope(message: string): McpError {
  return new McpError(ErrorCode.InvalidParams, message, { httpStatus: 400 });
}

export function mismatch(message: string): McpError {
  return new McpError(ErrorCode.HeaderMismatch, message, { httpStatus: 400 });
}

/** HTTP status of a stateless error response: the revision pins a few, others are in-band (200). */
export function statelessStatus(code: number): number {
  switch (code) {
    case ErrorCode.MethodNotFound:
      return 404;
    case ErrorCode.HeaderMismatch:
    case ErrorCode.MissingCapability:
    case ErrorCode.UnsupportedProtocolVersion:
      return 400;
    default:
      return 200;
  }
}

/**
 * `Mcp-Param-<Name>` headers of a tools/call mirror the arguments annotated with `x-mcp-header`:
 * present and equal whenever the argument is (integers compared as numbers).
 */
export function checkParamHeaders(request: JsonRpcRequest, req: IncomingMessage, params: HeaderParam[]): void {
  const args = request.params?.arguments;
  for (const { header, path } of params) {
    const expected = mirroredValue(args, path);
    if (expected === undefined) continue;
    const raw = req.headers[`mcp-param-${header.toLowerCase()}`];
    if (typeof raw !== 'string') throw mismatch(`Mcp-Param-${header} header is required: the body sets ${path.join('.')}`);
    const actual = decodeHeaderValue(raw);
    const equal = actual === expected || (/^-?\d+(\.0+)?$/.test(actual) && Number(actual) === Number(expected));
    if (!equal) throw mismatch(`Header mismatch: Mcp-Param-${header} does not match ${path.join('.')}`);
  }
}
