// Resolving the Mcp-Session-Id and MCP-Protocol-Version headers of a request.

import type { IncomingMessage } from 'node:http';
import { ErrorCode, McpError } from '../mcp/errors.ts';
import type { McpServer } from '../mcp/server.ts';
import { isSupportedVersion } from '../mcp/versions.ts';
import type { SessionRecord } from '../sessions/store.ts';

export const SESSION_HEADER = 'mcp-session-id';
export const VERSION_HEADER = 'mcp-protocol-version';

/** Code the reference SDK uses in 404 bodies for an unknown session. */
const SESSION_NOT_FOUND = -32001;

export function sessionIdOf(req: IncomingMessage): string | undefined {
  const value = req.headers[SESSION_HEADER];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** The protocol version header, validated: an unsupported one is a 400 (spec 2025-06-18). */
export function versionHeaderOf(req: IncomingMessage): string | undefined {
  const value = req.headers[VERSION_HEADER];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !isSupportedVersion(value)) {
    throw new McpError(ErrorCode.InvalidRequest, `Unsupported protocol version: ${String(value)}`, { httpStatus: 400 });
  }
  return value;
}

/** The session a request names: missing header → 400, unknown or someone else's → 404. */
export async function requireSession(req: IncomingMessage, server: McpServer, principal: string | undefined): Promise<SessionRecord> {
  const id = sessionIdOf(req);
  if (id === undefined) {
    throw new McpError(ErrorCode.InvalidRequest, 'Bad Request: Mcp-Session-Id header is required', { httpStatus: 400 });
  }
  const session = await server.sessions.get(id);
  // A session used by another principal is reported exactly like an unknown one: no oracle.
  if (!session || session.principal !== principal) {
    throw new McpError(SESSION_NOT_FOUND, 'Session not found', { httpStatus: 404 });
  }
  return session;
}
