// Request checks that come before any protocol work: DNS-rebinding protection (Host and Origin
// allowlists) and content negotiation. Each returns an HttpError or undefined.

import type { IncomingMessage } from 'node:http';
import { ErrorCode, McpError } from '../mcp/errors.ts';

export interface OriginPolicy {
  /** Host names (without port) accepted in the Host header; empty: any host. */
  allowedHosts: ReadonlySet<string>;
  /** Origins (scheme://host[:port]) accepted besides those whose host is an allowed host. */
  allowedOrigins: ReadonlySet<string>;
}

const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]', '::1'];

/** Loopback names, plus the bind address when it is a specific one. */
export function defaultOriginPolicy(bindHost: string, extraHosts: string[] = [], extraOrigins: string[] = []): OriginPolicy {
  const wildcard = bindHost === '0.0.0.0' || bindHost === '::';
  // Bound to every interface with no explicit allowlist, the server cannot know its public names.
  if (wildcard && extraHosts.length === 0) return { allowedHosts: new Set(), allowedOrigins: new Set(extraOrigins) };
  const hosts = new Set([...LOOPBACK_HOSTS, ...extraHosts.map((host) => host.toLowerCase())]);
  if (!wildcard) hosts.add(bindHost.toLowerCase());
  return { allowedHosts: hosts, allowedOrigins: new Set(extraOrigins) };
}

function hostName(hostHeader: string): string {
  const lower = hostHeader.toLowerCase();
  if (lower.startsWith('[')) return lower.slice(0, lower.indexOf(']') + 1);
  const colon = lower.lastIndexOf(':');
  return colon === -1 ? lower : lower.slice(0, colon);
}

function forbidden(message: string): McpError {
  return new McpError(ErrorCode.InvalidRequest, message, { httpStatus: 403 });
}

export function checkOrigin(req: IncomingMessage, policy: OriginPolicy): McpError | undefined {
  if (policy.allowedHosts.size > 0) {
    const host = req.headers.host;
    if (!host || !policy.allowedHosts.has(hostName(host))) return forbidden(`Host not allowed: ${host ?? '(none)'}`);
  }
  const origin = req.headers.origin;
  if (origin === undefined) return undefined;
  if (policy.allowedOrigins.has(origin)) return undefined;
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    return forbidden(`Origin not allowed: ${origin}`);
  }
  if (policy.allowedHosts.size === 0 && policy.allowedOrigins.size === 0) return undefined;
  if (!policy.allowedHosts.has(hostName(originHost))) return forbidden(`Origin not allowed: ${origin}`);
  return undefined;
}

/** Media ranges of Accept headers seen before: clients send the same one on every request. */
const acceptCache = new Map<string, ReadonlySet<string>>();
const ACCEPT_CACHE_LIMIT = 256;

function mediaRanges(header: string): ReadonlySet<string> {
  let ranges = acceptCache.get(header);
  if (ranges) return ranges;
  ranges = new Set(header.split(',').map((part) => part.split(';')[0]!.trim().toLowerCase()));
  // Bounded: a client inventing a new header per request cannot grow it.
  if (acceptCache.size >= ACCEPT_CACHE_LIMIT) acceptCache.clear();
  acceptCache.set(header, ranges);
  return ranges;
}

function accepts(req: IncomingMessage, type: string): boolean {
  const header = req.headers.accept;
  if (!header) return false;
  const ranges = mediaRanges(header);
  return ranges.has(type) || ranges.has('*/*') || ranges.has(`${type.slice(0, type.indexOf('/'))}/*`);
}

export function checkPostHeaders(req: IncomingMessage): McpError | undefined {
  if (!accepts(req, 'application/json') || !accepts(req, 'text/event-stream')) {
    return new McpError(ErrorCode.InvalidRequest, 'Not Acceptable: Accept must list application/json and text/event-stream', {
      httpStatus: 406,
    });
  }
  const contentType = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (contentType !== 'application/json') {
    return new McpError(ErrorCode.InvalidRequest, 'Unsupported Media Type: Content-Type must be application/json', {
      httpStatus: 415,
    });
  }
  return undefined;
}

export function checkGetHeaders(req: IncomingMessage): McpError | undefined {
  if (!accepts(req, 'text/event-stream')) {
    return new McpError(ErrorCode.InvalidRequest, 'Not Acceptable: Accept must list text/event-stream', { httpStatus: 406 });
  }
  return undefined;
}
