// `npm run bench`: mcp-cluster side by side with its peers (the official MCP SDK v1 and v2,
// Socket.IO + Redis adapter, a bare node:http handler), each scenario alternating the systems in
// one run. Prints tables, writes bench/results.json and bench/chart.svg (embedded by
// BENCHMARKS.md). Loopback only; every child process and redis-server is stopped at the end.
//
//   npm run bench                                   # every scenario, quick defaults (~5 min on 2 cores)
//   BENCH_SCENARIOS=1,2 npm run bench               # a selection (1..6; 6 = bench:pool)
//   BENCH_SECONDS=10 BENCH_ROUNDS=2 npm run bench   # the issue's full 10 s per system
//
// Knobs (environment): BENCH_SECONDS, BENCH_ROUNDS, BENCH_WARMUP_SECONDS, BENCH_CONNECTIONS,
// BENCH_NOTIFY_SECONDS, BENCH_SESSIONS, BENCH_MISSED, BENCH_OUT (output directory, default bench/),
// BENCH_QUIET_WAIT (seconds to wait for a busy machine to calm down before each scenario, default 30).

import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { renderChart } from './lib/chart.ts';
import { benchConfig } from './lib/config.ts';
import { openFilesLimit, waitForQuiet } from './lib/quiet.ts';
import { formatTable, formatValue, markdownTable, verdict, type ScenarioResult } from './lib/report.ts';

const OUT = process.env.BENCH_OUT || fileURLToPath(new URL('../../bench/', import.meta.url));

const SCENARIOS: Record<string, { name: string; run: () => Promise<ScenarioResult> }> = {
  '1': { name: 'tools/call throughput', run: async () => (await import('./scenarios/throughput.ts')).runThroughput(benchConfig, log) },
  '2': { name: 'cross-worker notify latency', run: async () => (await import('./scenarios/notify-latency.ts')).runNotifyLatency(benchConfig, log) },
  '3': { name: 'idle sessions memory', run: async () => (await import('./scenarios/idle-memory.ts')).runIdleMemory(benchConfig, log) },
  '4': { name: 'broadcast', run: async () => (await import('./scenarios/broadcast.ts')).runBroadcast(benchConfig, log) },
  '5': { name: 'resume after missed events', run: async () => (await import('./scenarios/resume.ts')).runResume(benchConfig, log) },
  '6': { name: 'CPU-bound tools (bench:pool)', run: async () => (await import('./scenarios/pool.ts')).runPool(benchConfig, log) },
};

const transcript: string[] = [];
function log(line: string): void {
  transcript.push(line);
  process.stdout.write(`${line}\n`);
}

const selected = (process.env.BENCH_SCENARIOS || Object.keys(SCENARIOS).join(','))
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
for (const id of selected) if (!SCENARIOS[id]) throw new Error(`BENCH_SCENARIOS: unknown scenario ${id} (1..6)`);

const machine = {
  cores: availableParallelism(),
  cpu: cpus()[0]?.model ?? 'unknown',
  memoryGiB: Number((totalmem() / 2 ** 30).toFixed(1)),
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
};
// What was measured: the commit, and how many files differed from it (read-only git).
const source = (() => {
  try {
    const cwd = fileURLToPath(new URL('../../', import.meta.url));
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd, encoding: 'utf8' }).trim();
    const changed = execFileSync('git', ['status', '--porcelain'], { cwd, encoding: 'utf8' }).split('\n').filter(Boolean).length;
    return { commit, uncommittedFiles: changed };
  } catch {
    return { commit: 'unknown', uncommittedFiles: -1 };
  }
})();
log(`mcp-cluster bench: ${machine.cores} cores (${machine.cpu}), ${machine.memoryGiB} GiB, Node ${machine.node}; source ${source.commit} + ${source.uncommittedFiles} uncommitted files`);

// Scenarios 3 and 4 hold 2 x BENCH_SESSIONS sockets in this process (streams + Socket.IO clients).
const needFiles = 2 * (benchConfig.sessions + benchConfig.warmSessions) + 2000;
const fileLimit = openFilesLimit();
if ((selected.includes('3') || selected.includes('4')) && fileLimit < needFiles) {
  const fit = Math.max(100, Math.floor((fileLimit - 2000) / 2) - benchConfig.warmSessions);
  log(`open-file limit ${fileLimit} < ${needFiles}: BENCH_SESSIONS lowered from ${benchConfig.sessions} to ${fit} (raise it with ulimit -n)`);
  benchConfig.sessions = fit;
}
log(`config: ${JSON.stringify(benchConfig)}, scenarios ${selected.join(',')}, open-file limit ${fileLimit}\n`);

const started = performance.now();
const results: ScenarioResult[] = [];
const failures: Array<{ scenario: string; error: string }> = [];
for (const id of selected) {
  const scenario = SCENARIOS[id]!;
  log(`-- scenario ${id}: ${scenario.name}`);
  // The machine may be shared: note how busy it was, after waiting a bounded while for calm.
  const busyBefore = await waitForQuiet(0.15, Number(process.env.BENCH_QUIET_WAIT ?? 30) * 1000, log);
  try {
    const result = await scenario.run();
    result.notes.push(`machine ${Math.round(busyBefore * 100)}% busy (all cores) just before this scenario`);
    results.push(result);
    log(`\n${formatTable(result)}\n`);
  } catch (error) {
    const message = (error as Error).stack ?? String(error);
    failures.push({ scenario: id, error: message });
    log(`scenario ${id} failed: ${message}\n`);
  }
}
const totalSeconds = (performance.now() - started) / 1000;

log('== summary');
for (const result of results) {
  for (const comparison of result.comparisons) {
    if (comparison.target === null) continue;
    log(`${verdict(comparison).padEnd(6)} ${comparison.label}: ${formatValue(comparison)} (target ${comparison.target})`);
  }
}
log(`total ${totalSeconds.toFixed(0)} s`);

mkdirSync(OUT, { recursive: true });
const report = { generatedAt: new Date().toISOString(), machine, source, config: benchConfig, scenarios: selected, totalSeconds, results, failures };
writeFileSync(`${OUT}/results.json`, `${JSON.stringify(report, null, 2)}\n`);
writeFileSync(`${OUT}/chart.svg`, renderChart(report));
const markdown = [`<!-- generated by npm run bench on ${report.generatedAt} -->`];
for (const result of results) {
  markdown.push('', `#### ${result.title}`, '', markdownTable(result), '');
  for (const c of result.comparisons) markdown.push(`- ${c.target === null ? '' : `**${verdict(c)}** `}${c.label}: ${formatValue(c)}${c.target === null ? '' : ` (target ${c.target})`}${c.detail ? ` — ${c.detail}` : ''}`);
  for (const note of result.notes) markdown.push(`- _${note}_`);
}
writeFileSync(`${OUT}/results.md`, `${markdown.join('\n')}\n`);
log(`wrote ${OUT}results.json, ${OUT}results.md, ${OUT}output.txt and ${OUT}chart.svg`);
writeFileSync(`${OUT}/output.txt`, `${transcript.join('\n')}\n`);
process.exit(failures.length > 0 ? 1 : 0);
