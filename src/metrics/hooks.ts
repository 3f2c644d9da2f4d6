// Where counts happen, as small interfaces: the mcp and http layers call these (a counter
// increment each, nothing on the hot path beyond that), `metrics.ts` implements them with
// prom-client. Neither layer imports prom-client; a library user may pass their own object.

/** Counting points of the protocol engine (McpServer). */
export interface ServerMetrics {
  /** `initialize` opened a session. */
  sessionOpened(): void;
  /** A session was ended on purpose (DELETE). Idle expiry is not counted. */
  sessionClosed(): void;
  /** `server.notify()` was called: a message is on its way to a session's stream. */
  notificationPublished(): void;
  /** ...and the broker answered: a stream got it (delivered), or none was attached (dropped). */
  notificationSettled(delivered: boolean): void;
  /** A JSON-RPC request was answered after `seconds`. */
  requestObserved(method: string, seconds: number): void;
}

/** Counting points of the HTTP transport. */
export interface TransportMetrics {
  /** A GET with Last-Event-ID was resumed: everything missed was replayed, part of it, or nothing. */
  replayResumed(outcome: 'complete' | 'gap' | 'unknown'): void;
}

export interface MetricsExposition {
  contentType: string;
  body: string;
}

/** What the HTTP app needs for `/metrics` and its own counts. */
export interface HttpMetrics extends TransportMetrics {
  /** The text `/metrics` answers with: this process's metrics, or the whole cluster's. */
  expose(): Promise<MetricsExposition>;
}
