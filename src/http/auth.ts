// Optional bearer-token authentication and the OAuth 2.0 Protected Resource Metadata (RFC 9728)
// that MCP 2025-11-25 clients discover when they are refused: a 401 carries
// `WWW-Authenticate: Bearer resource_metadata="<origin>/.well-known/oauth-protected-resource"`,
// and that document names the resource and its authorization servers.

import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ErrorCode, McpError } from '../mcp/errors.ts';

export const WELL_KNOWN_RESOURCE = '/.well-known/oauth-protected-resource';

/** The principal a bare token (no `principal:` in front) stands for. */
export const DEFAULT_PRINCIPAL = 'default';

const PRINCIPAL = /^[A-Za-z0-9_.@-]{1,64}$/;
const MIN_TOKEN_LENGTH = 16;

export class AuthConfigError extends Error {}

/**
 * Parses `--auth-token`: a comma-separated list of `token` or `principal:token` entries. A bare
 * token authenticates as the principal `default` (several bare tokens: key rotation, one
 * principal). Tokens must be at least 16 characters and contain no comma; a principal is
 * 1-64 of `A-Z a-z 0-9 _ . @ -`.
 */
export function parseAuthTokens(spec: string): Map<string, string> {
  const tokens = new Map<string, string>();
  for (const raw of spec.split(',')) {
    const entry = raw.trim();
    if (entry.length === 0) continue;
    const colon = entry.indexOf(':');
    const principal = colon === -1 ? DEFAULT_PRINCIPAL : entry.slice(0, colon);
    const token = colon === -1 ? entry : entry.slice(colon + 1);
    if (!PRINCIPAL.test(principal)) throw new AuthConfigError(`invalid principal name "${principal}"`);
    if (token.length < MIN_TOKEN_LENGTH) throw new AuthConfigError(`the token of "${principal}" is shorter than ${MIN_TOKEN_LENGTH} characters`);
    if (/\s/.test(token)) throw new AuthConfigError(`the token of "${principal}" contains whitespace`);
    if (tokens.has(token)) throw new AuthConfigError(`a token is listed twice`);
    tokens.set(token, principal);
  }
  if (tokens.size === 0) throw new AuthConfigError('no token given');
  return tokens;
}

/** A 401. `challenge` says what WWW-Authenticate should add (RFC 6750 §3.1). */
export class UnauthorizedError extends McpError {
  readonly challenge: 'none' | 'invalid_token';

  constructor(message: string, challenge: 'none' | 'invalid_token') {
    super(ErrorCode.InvalidRequest, message, { httpStatus: 401 });
    this.challenge = challenge;
  }
}

const digest = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * An `authenticate` hook for HttpOptions: `Authorization: Bearer <token>` → its principal.
 * Tokens are looked up by SHA-256 digest, so the lookup's timing says nothing about the tokens.
 */
export function bearerAuth(tokens: ReadonlyMap<string, string> | Record<string, string>): (req: IncomingMessage) => string {
  const entries = tokens instanceof Map ? [...tokens] : Object.entries(tokens);
  const byDigest = new Map(entries.map(([token, principal]) => [digest(token), principal]));
  return (req) => {
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header) : null;
    if (!match) throw new UnauthorizedError('Unauthorized: a bearer token is required', header === undefined ? 'none' : 'invalid_token');
    const principal = byDigest.get(digest(match[1]!));
    if (principal === undefined) throw new UnauthorizedError('Unauthorized: invalid bearer token', 'invalid_token');
    return principal;
  };
}

export interface ProtectedResourceOptions {
  /** The resource identifier: the MCP endpoint's public URL. Default `http://<Host header><path>`. */
  resource?: string;
  /** `authorization_servers`: issuers of the tokens this resource accepts. */
  authorizationServers?: string[];
  scopesSupported?: string[];
  resourceName?: string;
}

/** The MCP endpoint's URL as clients reach it. */
export function resourceUrl(req: IncomingMessage, path: string, options: ProtectedResourceOptions): string {
  if (options.resource) return options.resource;
  // Only a well-formed host goes into a URL we hand out; anything else (possible when no Host
  // allowlist applies) falls back to localhost.
  const host = req.headers.host;
  return `http://${host !== undefined && HOST.test(host) ? host : 'localhost'}${path}`;
}

const HOST = /^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

/** The RFC 9728 document, served at the root and the path-suffixed well-known URLs. */
export function protectedResourceMetadata(req: IncomingMessage, path: string, options: ProtectedResourceOptions): Record<string, unknown> {
  const document: Record<string, unknown> = {
    resource: resourceUrl(req, path, options),
    bearer_methods_supported: ['header'],
  };
  if (options.authorizationServers?.length) document.authorization_servers = options.authorizationServers;
  if (options.scopesSupported?.length) document.scopes_supported = options.scopesSupported;
  if (options.resourceName) document.resource_name = options.resourceName;
  return document;
}

/** The WWW-Authenticate value of a 401 (MCP 2025-11-25: it points at the resource metadata). */
export function wwwAuthenticate(req: IncomingMessage, path: string, options: ProtectedResourceOptions, err: unknown): string {
  let origin: string;
  try {
    origin = new URL(resourceUrl(req, path, options)).origin;
  } catch {
    origin = 'http://localhost';
  }
  const metadata = `${origin}${WELL_KNOWN_RESOURCE}`;
  let value = `Bearer resource_metadata="${metadata}"`;
  if (err instanceof UnauthorizedError && err.challenge === 'invalid_token') value += ', error="invalid_token"';
  return value;
}
