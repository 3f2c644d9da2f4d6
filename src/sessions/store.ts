// The session store contract: what every worker must be able to learn about a 2025-era session,
// whichever worker created it. Implementations: memory.ts, redis.ts, cluster.ts.

import type { LoggingLevel } from '../mcp/logging.ts';

export interface ClientInfo {
  name: string;
  version: string;
  [key: string]: unknown;
}

export interface SessionRecord {
  id: string;
  protocolVersion: string;
  clientInfo: ClientInfo;
  clientCapabilities: Record<string, unknown>;
  /** Who created the session (auth subject); another principal using the id gets 404. */
  principal?: string;
  /** Set by `logging/setLevel`; absent means the server's default. */
  logLevel?: LoggingLevel;
  /** True once `notifications/initialized` arrived. */
  initialized: boolean;
  createdAt: number;
  lastSeenAt: number;
}

export type SessionPatch = Partial<Pick<SessionRecord, 'logLevel' | 'initialized'>>;

export interface SessionStore {
  create(record: SessionRecord): Promise<void>;
  get(id: string): Promise<SessionRecord | undefined>;
  update(id: string, patch: SessionPatch): Promise<void>;
  /** Records activity, pushing back idle expiry. */
  touch(id: string): Promise<void>;
  /** Removes the session and its resource subscriptions; resolves true when it existed. */
  delete(id: string): Promise<boolean>;
  subscribeResource(id: string, uri: string): Promise<void>;
  unsubscribeResource(id: string, uri: string): Promise<void>;
  /** Sessions subscribed to `uri`, across the cluster. */
  subscribersOf(uri: string): Promise<string[]>;
  /** Releases timers; never closes a connection it was given. */
  close(): Promise<void>;
}
