// One process's Prometheus metrics (prom-client), behind the small hooks of hooks.ts. Counters
// are bumped where things happen; gauges (open streams, thread pool) are read at scrape time,
// so they cost nothing in between. In a cluster, cluster.ts sums every worker's registry.

import { Counter, Gauge, Registry, collectDefaultMetrics, type PrometheusContentType } from 'prom-client';
import { MethodDurationHistogram } from './durations.ts';
import type { PoolStats } from '../pool/pool.ts';
import type { HttpMetrics, MetricsExposition, ServerMetrics } from './hooks.ts';

/**
 * Methods that get their own `method` label; any other becomes `other`. The method is chosen by
 * the client: labelling it verbatim would let any client grow the series without bound.
 */
const KNOWN_METHODS = new Set([
  'initialize',
  'ping',
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'resources/subscribe',
  'resources/unsubscribe',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'logging/setLevel',
]);

/** Tool calls run from microseconds to minutes. */
const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export interface MetricsOptions {
  /** Default: a new registry of its own (never prom-client's global one). */
  registry?: Registry<PrometheusContentType>;
  /** Node.js process metrics (CPU, memory, event loop lag, GC). Default true. */
  defaultMetrics?: boolean;
  /**
   * What `/metrics` answers with. Default: this registry. A node:cluster worker passes a function
   * that asks the primary for every worker's metrics, summed (cluster.ts).
   */
  source?: () => Promise<string>;
}

export class Metrics implements ServerMetrics, HttpMetrics {
  readonly registry: Registry<PrometheusContentType>;
  readonly #source: () => Promise<string>;
  readonly #sessionsOpened: Counter;
  readonly #sessionsClosed: Counter;
  readonly #published: Counter;
  readonly #delivered: Counter;
  readonly #dropped: Counter;
  readonly #replayResumes: Counter<'outcome'>;
  readonly #requestDuration: MethodDurationHistogram;
  readonly #redisReconnects: Counter<'client'>;
  readonly #streamSources: Array<() => number> = [];
  readonly #poolSources: Array<() => PoolStats> = [];

  constructor(options: MetricsOptions = {}) {
    const registry = (this.registry = options.registry ?? new Registry());
    this.#source = options.source ?? (() => registry.metrics());
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
    const registers = [registry];
    this.#sessionsOpened = new Counter({ name: 'mcp_sessions_opened_total', help: 'Sessions opened by initialize', registers });
    this.#sessionsClosed = new Counter({ name: 'mcp_sessions_closed_total', help: 'Sessions ended by DELETE', registers });
    this.#published = new Counter({ name: 'mcp_notifications_published_total', help: 'Messages sent with server.notify()', registers });
    this.#delivered = new Counter({ name: 'mcp_notifications_delivered_total', help: 'Notified messages a stream received', registers });
    this.#dropped = new Counter({
      name: 'mcp_notifications_dropped_total',
      help: 'Notified messages no stream was attached to receive (retained for resume with --replay)',
      registers,
    });
    this.#replayResumes = new Counter({
      name: 'mcp_replay_resumes_total',
      help: 'GET streams resumed with Last-Event-ID, by outcome (complete: a replay hit)',
      labelNames: ['outcome'],
      registers,
    });
    for (const outcome of ['complete', 'gap', 'unknown']) this.#replayResumes.inc({ outcome }, 0);
    this.#requestDuration = new MethodDurationHistogram({
      name: 'mcp_request_duration_seconds',
      help: 'Time to answer a JSON-RPC request, by method',
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.#redisReconnects = new Counter({
      name: 'mcp_redis_reconnects_total',
      help: 'Reconnect attempts of the Redis connections, by client',
      labelNames: ['client'],
      registers,
    });
    const streamSources = this.#streamSources;
    new Gauge({
      name: 'mcp_sse_streams_open',
      help: 'SSE streams held open (GET streams and POST response streams)',
      registers,
      collect() {
        this.set(streamSources.reduce((sum, count) => sum + count(), 0));
      },
    });
    const poolSources = this.#poolSources;
    const poolGauge = (name: string, help: string, pick: (stats: PoolStats) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(poolSources.reduce((sum, stats) => sum + pick(stats()), 0));
        },
      });
    poolGauge('mcp_pool_queue_depth', 'Tool tasks waiting for a worker thread', (stats) => stats.queued);
    poolGauge('mcp_pool_tasks_pending', 'Tool tasks admitted and not settled (running or queued)', (stats) => stats.pending);
    poolGauge('mcp_pool_threads', 'Live worker threads of the tool pool', (stats) => stats.threads);
  }

  // ── ServerMetrics ──────────────────────────────────────────────────────────────────────────

  sessionOpened(): void {
    this.#sessionsOpened.inc();
  }

  sessionClosed(): void {
    this.#sessionsClosed.inc();
  }

  notificationPublished(): void {
    this.#published.inc();
  }

  notificationSettled(delivered: boolean): void {
    (delivered ? this.#delivered : this.#dropped).inc();
  }

  requestObserved(method: string, seconds: number): void {
    this.#requestDuration.observe(KNOWN_METHODS.has(method) ? method : 'other', seconds);
  }

  // ── HttpMetrics ────────────────────────────────────────────────────────────────────────────

  replayResumed(outcome: 'complete' | 'gap' | 'unknown'): void {
    this.#replayResumes.inc({ outcome });
  }

  async expose(): Promise<MetricsExposition> {
    return { contentType: this.registry.contentType, body: await this.#source() };
  }

  // ── sources read at scrape time ────────────────────────────────────────────────────────────

  redisReconnecting(client: string): void {
    this.#redisReconnects.inc({ client });
  }

  /** Counts the streams `count` reports (e.g. an HTTP app's `transport.streams.size`). */
  observeStreams(count: () => number): void {
    this.#streamSources.push(count);
  }

  /** Reports a thread pool's queue (e.g. `() => pool.stats()`). */
  observePool(stats: () => PoolStats): void {
    this.#poolSources.push(stats);
  }
}
