// Metrics of a node:cluster, summed in the primary (prom-client's AggregatorRegistry.aggregate).
// A worker answering /metrics asks the primary; the primary collects every live worker's registry
// and answers with the sum. It runs in every multi-worker mode: with the cluster hub (no Redis)
// and with Redis, where there is no hub but the primary still forks and watches the workers.
//
// The messages carry the tag of the cluster IPC protocol (ipc.ts) and kinds of their own, which
// the hub and the broker clients ignore, as they ignore pm2's and lifecycle messages:
//   worker → primary  metrics.hello                   "collect mine from now on" (at start-up)
//   worker → primary  metrics.request { id }          "the cluster's metrics, please"
//   primary → worker  metrics.collect { collectId }   "your registry, please"
//   worker → primary  metrics.report  { collectId, metrics }
//   primary → worker  metrics.response { id, ok, text | error }
// prom-client's own clusterMetrics() is not used: its untagged messages wait 5 s and then fail
// the whole scrape for one worker that exits mid-collection (routine during a rolling restart).

import type { Cluster, Worker } from 'node:cluster';
import { randomUUID } from 'node:crypto';
import { AggregatorRegistry, Gauge, Registry, type PrometheusContentType } from 'prom-client';
import { PROTOCOL_VERSION, processPort, type IpcPort, type WorkerMessage } from '../cluster/ipc.ts';

type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

type MetricsMessage =
  | { mcpCluster: typeof PROTOCOL_VERSION; kind: 'metrics.hello' }
  | { mcpCluster: typeof PROTOCOL_VERSION; kind: 'metrics.request'; id: string }
  | { mcpCluster: typeof PROTOCOL_VERSION; kind: 'metrics.collect'; collectId: number }
  | { mcpCluster: typeof PROTOCOL_VERSION; kind: 'metrics.report'; collectId: number; metrics: MetricsJson }
  | { mcpCluster: typeof PROTOCOL_VERSION; kind: 'metrics.response'; id: string; ok: true; text: string }
  | { mcpCluster: typeof PROTOCOL_VERSION; kind: 'metrics.response'; id: string; ok: false; error: string };

function asMetricsMessage(raw: unknown): MetricsMessage | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const message = raw as Record<string, unknown>;
  if (message.mcpCluster !== PROTOCOL_VERSION || typeof message.kind !== 'string') return undefined;
  switch (message.kind) {
    case 'metrics.hello':
      return raw as MetricsMessage;
    case 'metrics.request':
      return typeof message.id === 'string' ? (raw as MetricsMessage) : undefined;
    case 'metrics.collect':
      return typeof message.collectId === 'number' ? (raw as MetricsMessage) : undefined;
    case 'metrics.report':
      return typeof message.collectId === 'number' && Array.isArray(message.metrics) ? (raw as MetricsMessage) : undefined;
    case 'metrics.response':
      return typeof message.id === 'string' ? (raw as MetricsMessage) : undefined;
    default:
      return undefined;
  }
}

const tag = <M extends { kind: string }>(message: M) => ({ mcpCluster: PROTOCOL_VERSION, ...message });

export interface MetricsAggregatorOptions {
  /** The primary's own metrics, included in the sum. Default: a new registry. */
  registry?: Registry<PrometheusContentType>;
  /** How long a collection waits for slow workers before answering without them. Default 2 s. */
  timeoutMs?: number;
}

export interface MetricsAggregator {
  readonly registry: Registry<PrometheusContentType>;
  /** The whole cluster's metrics, as Prometheus text (what a worker's /metrics answers). */
  collect(): Promise<string>;
  detach(): void;
}

interface Collection {
  waiting: Set<number>;
  reports: MetricsJson[];
  finish(): void;
}

/** Serves `metrics.request` for every worker of `cluster`. Call in the primary. */
export function attachMetricsAggregator(cluster: Cluster, options: MetricsAggregatorOptions = {}): MetricsAggregator {
  const registry = options.registry ?? new Registry();
  const timeoutMs = options.timeoutMs ?? 2_000;
  const collections = new Map<number, Collection>();
  let sequence = 0;
  /** Workers that said hello: a worker still starting up is not waited for. */
  const reporters = new Set<number>();
  const live = () =>
    Object.values(cluster.workers ?? {}).filter(
      (worker): worker is Worker => worker !== undefined && reporters.has(worker.id) && worker.isConnected(),
    );

  new Gauge({
    name: 'mcp_cluster_workers',
    help: 'HTTP workers running (started and connected to the primary)',
    registers: [registry],
    collect() {
      this.set(live().length);
    },
  });
  const reporting = new Gauge({
    name: 'mcp_cluster_workers_reporting',
    help: 'Workers whose metrics this scrape includes (fewer than mcp_cluster_workers: one was too slow)',
    registers: [registry],
  });

  const collect = (): Promise<string> =>
    new Promise((resolve, reject) => {
      const collectId = ++sequence;
      const workers = live();
      const collection: Collection = {
        waiting: new Set(workers.map((worker) => worker.id)),
        reports: [],
        finish: () => {
          if (!collections.delete(collectId)) return;
          clearTimeout(timer);
          reporting.set(collection.reports.length);
          registry
            .getMetricsAsJSON()
            .then((own) => AggregatorRegistry.aggregate([own, ...collection.reports]).metrics())
            .then(resolve, reject);
        },
      };
      const timer = setTimeout(collection.finish, timeoutMs);
      collections.set(collectId, collection);
      for (const worker of workers) {
        worker.send(tag({ kind: 'metrics.collect', collectId }), (error: Error | null) => {
          if (error) gone(worker, collection);
        });
      }
      if (workers.length === 0) collection.finish();
    });

  const gone = (worker: Worker, collection: Collection) => {
    if (collection.waiting.delete(worker.id) && collection.waiting.size === 0) collection.finish();
  };

  const onMessage = (worker: Worker, raw: unknown): void => {
    const message = asMetricsMessage(raw);
    if (!message) return;
    if (message.kind === 'metrics.hello') {
      reporters.add(worker.id);
    } else if (message.kind === 'metrics.report') {
      const collection = collections.get(message.collectId);
      if (!collection?.waiting.has(worker.id)) return;
      collection.reports.push(message.metrics);
      gone(worker, collection);
    } else if (message.kind === 'metrics.request') {
      const reply = (answer: { ok: true; text: string } | { ok: false; error: string }) => {
        if (worker.isConnected()) worker.send(tag({ kind: 'metrics.response', id: message.id, ...answer }), () => {});
      };
      collect().then(
        (text) => reply({ ok: true, text }),
        (error: unknown) => reply({ ok: false, error: error instanceof Error ? error.message : String(error) }),
      );
    }
  };
  // A worker that exits mid-collection will never report: answer without it.
  const onWorkerGone = (worker: Worker): void => {
    reporters.delete(worker.id);
    for (const collection of [...collections.values()]) gone(worker, collection);
  };

  cluster.on('message', onMessage);
  cluster.on('disconnect', onWorkerGone);
  cluster.on('exit', onWorkerGone);
  return {
    registry,
    collect,
    detach() {
      cluster.off('message', onMessage);
      cluster.off('disconnect', onWorkerGone);
      cluster.off('exit', onWorkerGone);
      for (const collection of [...collections.values()]) collection.finish();
    },
  };
}

export interface ClusterMetricsClientOptions {
  /** Default: this process's channel to the primary. */
  port?: IpcPort;
  /** How long `expose()` waits for the primary. Default 5 s (the primary gives workers 2 s). */
  timeoutMs?: number;
}

/**
 * A worker's side: reports its registry when the primary collects, and asks the primary for the
 * whole cluster's metrics.
 */
export class ClusterMetricsClient {
  readonly #registry: Registry;
  readonly #port: IpcPort;
  readonly #timeoutMs: number;
  readonly #prefix = `${randomUUID()}/`;
  readonly #pending = new Map<string, { resolve(text: string): void; reject(error: Error): void; timer: NodeJS.Timeout }>();
  readonly #stop: () => void;
  #sequence = 0;

  constructor(registry: Registry, options: ClusterMetricsClientOptions = {}) {
    this.#registry = registry;
    this.#port = options.port ?? processPort();
    this.#timeoutMs = options.timeoutMs ?? 5_000;
    this.#stop = this.#port.onMessage(this.#onMessage);
    if (this.#port.connected) this.#port.send(tag({ kind: 'metrics.hello' }) as unknown as WorkerMessage, () => {});
  }

  /** The whole cluster's metrics as Prometheus text; rejects when the primary cannot answer. */
  expose(): Promise<string> {
    if (!this.#port.connected) return Promise.reject(new Error('metrics: the IPC channel to the primary is closed'));
    const id = this.#prefix + ++this.#sequence;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`metrics: the primary did not answer within ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      // Not a WorkerMessage of the hub protocol: the hub ignores this kind (see the header).
      this.#port.send(tag({ kind: 'metrics.request', id }) as unknown as WorkerMessage, (error) => {
        if (error) this.#settle(id, (p) => p.reject(error));
      });
    });
  }

  close(): void {
    this.#stop();
    for (const id of [...this.#pending.keys()]) this.#settle(id, (p) => p.reject(new Error('metrics: closed')));
  }

  readonly #onMessage = (raw: unknown): void => {
    const message = asMetricsMessage(raw);
    if (message?.kind === 'metrics.collect') {
      const { collectId } = message;
      this.#registry.getMetricsAsJSON().then(
        (metrics) => {
          if (this.#port.connected) {
            this.#port.send(tag({ kind: 'metrics.report', collectId, metrics }) as unknown as WorkerMessage, () => {});
          }
        },
        () => undefined, // the primary answers without us after its timeout
      );
    } else if (message?.kind === 'metrics.response' && message.id.startsWith(this.#prefix)) {
      this.#settle(message.id, (p) => (message.ok ? p.resolve(message.text) : p.reject(new Error(`metrics: ${message.error}`))));
    }
  };

  #settle(id: string, settle: (pending: { resolve(text: string): void; reject(error: Error): void }) => void): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    settle(pending);
  }
}
