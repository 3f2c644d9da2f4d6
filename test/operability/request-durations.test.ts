// The hand-counted request-duration histogram must expose exactly what prom-client's own
// Histogram would for the same observations, alone and after the cluster aggregation.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AggregatorRegistry, Histogram, Registry } from 'prom-client';
import { MethodDurationHistogram } from '../../src/metrics/durations.ts';

const BUCKETS = [0.001, 0.01, 0.1, 1];
const OBSERVATIONS: Array<[string, number]> = [
  ['tools/call', 0.0004],
  ['tools/call', 0.001], // on a bound: counted in that bucket (le is inclusive)
  ['tools/call', 0.05],
  ['ping', 0.002],
  ['tools/call', 3], // beyond the last bound: +Inf only
  ['ping', 0.5],
];

function both(): { ours: Registry; reference: Registry } {
  const ours = new Registry();
  const reference = new Registry();
  const mine = new MethodDurationHistogram({ name: 'd_seconds', help: 'h', buckets: BUCKETS, registers: [ours] });
  const theirs = new Histogram({ name: 'd_seconds', help: 'h', labelNames: ['method'], buckets: BUCKETS, registers: [reference] });
  for (const [method, seconds] of OBSERVATIONS) {
    mine.observe(method, seconds);
    theirs.observe({ method }, seconds);
  }
  return { ours, reference };
}

test('exposition identical to prom-client Histogram', async () => {
  const { ours, reference } = both();
  assert.equal(await ours.metrics(), await reference.metrics());
  assert.match(await ours.metrics(), /^d_seconds_bucket\{le="0.001",method="tools\/call"\} 2$/m);
  assert.match(await ours.metrics(), /^d_seconds_count\{method="ping"\} 2$/m);
});

test('cluster aggregation (two workers) identical to prom-client Histogram', async () => {
  const a = both();
  const b = both();
  const ours = AggregatorRegistry.aggregate([await a.ours.getMetricsAsJSON(), await b.ours.getMetricsAsJSON()]);
  const reference = AggregatorRegistry.aggregate([await a.reference.getMetricsAsJSON(), await b.reference.getMetricsAsJSON()]);
  assert.equal(await ours.metrics(), await reference.metrics());
  assert.match(await ours.metrics(), /^d_seconds_count\{method="tools\/call"\} 8$/m);
});

test('reset empties every series', async () => {
  const { ours } = both();
  ours.resetMetrics();
  assert.doesNotMatch(await ours.metrics(), /d_seconds_count/);
});
