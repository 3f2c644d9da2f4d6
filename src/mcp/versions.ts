// Protocol revisions this server speaks, and how a requested one is negotiated.

/** 2025-era revisions (sessions, initialize, GET stream), newest first. */
export const SESSION_ERA_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26'] as const;
export const LATEST_SESSION_ERA_VERSION = SESSION_ERA_VERSIONS[0];

export function isSupportedVersion(version: string): boolean {
  return (SESSION_ERA_VERSIONS as readonly string[]).includes(version);
}

/**
 * spec lifecycle: if the server supports the requested version it answers with it, otherwise with
 * the latest version it supports, and the client decides whether to continue.
 */
export function negotiateVersion(requested: unknown): string {
  return typeof requested === 'string' && isSupportedVersion(requested) ? requested : LATEST_SESSION_ERA_VERSION;
}

/** JSON-RPC batching was removed in 2025-06-18; only 2025-03-26 accepts batches. */
export function acceptsBatches(version: string): boolean {
  return version === '2025-03-26';
}

/** spec 2025-06-18+: a request without MCP-Protocol-Version is assumed to be 2025-03-26. */
export const VERSION_WHEN_HEADER_MISSING = '2025-03-26';
