// The operator's routes: /healthz (the process answers), /readyz (it accepts work AND its broker
// is connected: a load balancer should send it traffic) and /metrics (Prometheus text).

import type { ServerResponse } from 'node:http';
import type { HttpMetrics } from '../metrics/hooks.ts';
import { sendJson } from './respond.ts';

/** Named checks, each true when healthy: e.g. `{ redisPublisher: true, redisSubscriber: false }`. */
export type ReadinessCheck = () => Record<string, boolean> | Promise<Record<string, boolean>>;

export async function sendReadiness(res: ServerResponse, draining: boolean, readiness: ReadinessCheck | undefined): Promise<void> {
  let checks: Record<string, boolean>;
  try {
    checks = { accepting: !draining, ...(await readiness?.()) };
  } catch {
    checks = { accepting: !draining, backends: false };
  }
  const ready = Object.values(checks).every(Boolean);
  const status = ready ? 'ready' : draining ? 'draining' : 'not ready';
  sendJson(res, ready ? 200 : 503, { status, checks });
}

export async function sendMetrics(res: ServerResponse, metrics: HttpMetrics): Promise<void> {
  let exposition;
  try {
    exposition = await metrics.expose();
  } catch (err) {
    // In a cluster worker: the primary did not answer. Say so rather than show one worker's share.
    return sendJson(res, 503, { error: (err as Error).message });
  }
  res.writeHead(200, { 'content-type': exposition.contentType, 'content-length': String(Buffer.byteLength(exposition.body)) });
  res.end(exposition.body);
}
