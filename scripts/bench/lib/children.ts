// Child processes of a bench run: the real mcp-cluster CLI and the peer servers. Each is tracked
// so that none outlives the run, however it ends (normal end, error, Ctrl-C).

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = fileURLToPath(new URL('../../../src/cli/main.ts', import.meta.url));
const GC_PRELOAD = fileURLToPath(new URL('./gc-signal.mjs', import.meta.url));
const START_TIMEOUT_MS = 30_000;

const running = new Set<ChildProcess>();
let hooksInstalled = false;

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      for (const child of running) child.kill('SIGKILL');
      process.stderr.write(`\nbench: ${signal}, children killed\n`);
      process.exit(130);
    });
  }
}

export interface Running {
  name: string;
  pid: number;
  child: ChildProcess;
  lines: string[];
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** SIGTERM, then SIGKILL after a grace period; resolves once the process exited. */
  stop(): Promise<void>;
}

export interface SpawnOptions {
  env?: Record<string, string>;
  /** Adds an IPC channel (child_process `process.send`). */
  ipc?: boolean;
}

/** Runs a TypeScript file with tsx (as the CLI runs), --expose-gc and the SIGUSR2 gc hook. */
export function spawnTs(name: string, script: string, args: string[], options: SpawnOptions = {}): Running {
  installHooks();
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', '--import', GC_PRELOAD, script, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    stdio: options.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  const lines: string[] = [];
  const stderr: string[] = [];
  const waiters = new Set<{ pattern: RegExp; resolve: (line: string) => void }>();
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    if (stderr.join('').length < 20_000) stderr.push(chunk);
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (lines.length < 10_000) lines.push(line);
    for (const waiter of waiters) {
      if (waiter.pattern.test(line)) {
        waiters.delete(waiter);
        waiter.resolve(line);
      }
    }
  });
  const waitForLine = (pattern: RegExp, timeoutMs = START_TIMEOUT_MS): Promise<string> => {
    const seen = lines.find((line) => pattern.test(line));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => {
        cleanup();
        reject(new Error(`${name} exited (${code}) before printing ${pattern}: ${stderr.join('').slice(-2000)}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${name}: timed out waiting for ${pattern}; stderr: ${stderr.join('').slice(-2000)}`));
      }, timeoutMs);
      const waiter = {
        pattern,
        resolve: (line: string) => {
          cleanup();
          resolve(line);
        },
      };
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(waiter);
        child.off('exit', onExit);
      };
      waiters.add(waiter);
      child.once('exit', onExit);
    });
  };
  return {
    name,
    pid: child.pid!,
    child,
    lines,
    waitForLine,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 8_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface McpClusterOptions {
  workers?: number;
  redisUrl?: string;
  replay?: boolean;
  args?: string[];
}

export interface RunningMcpCluster extends Running {
  url: string;
  /** The HTTP worker processes (w1, w2, ...), or the single process itself. */
  workerPids: Map<string, number>;
}

/** Starts the real CLI (`src/cli/main.ts`), as users run it, on a free loopback port. */
export async function startMcpCluster(options: McpClusterOptions = {}): Promise<RunningMcpCluster> {
  const workers = options.workers ?? 1;
  const args = ['--port', '0', '--host', '127.0.0.1', '--log-level', 'info', '--workers', String(workers)];
  if (options.redisUrl) args.push('--redis-url', options.redisUrl);
  if (options.replay) args.push('--replay');
  args.push(...(options.args ?? []));
  const env: Record<string, string> = {};
  // The CLI reads REDIS_URL too: never let the caller's environment choose the backend.
  if (!options.redisUrl) env.REDIS_URL = '';
  const running = spawnTs(`mcp-cluster(${workers}w)`, CLI, args, { env });
  const line = await running.waitForLine(/listening on http/);
  const url = /listening on (http:\/\/\S+?\/mcp)/.exec(line)![1]!;
  const workerPids = new Map<string, number>();
  if (workers === 1) workerPids.set('w1', running.pid);
  for (const text of running.lines) {
    if (!text.includes('worker listening')) continue;
    const parsed = JSON.parse(text) as { worker?: string; workerPid?: number };
    if (parsed.worker && parsed.workerPid) workerPids.set(parsed.worker, parsed.workerPid);
  }
  return { ...running, url, workerPids };
}

export interface RunningPeer extends Running {
  url: string;
}

/** Starts a peer server script from scripts/bench/peers/; it announces `{"ready": url}`. */
export async function startPeer(name: string, file: string, args: string[] = [], options: SpawnOptions = {}): Promise<RunningPeer> {
  const script = fileURLToPath(new URL(`../peers/${file}`, import.meta.url));
  const running = spawnTs(name, script, args, options);
  const line = await running.waitForLine(/^\{"ready":/);
  const { ready } = JSON.parse(line) as { ready: string };
  return { ...running, url: ready };
}

/** Resident set size of a process, in KiB (Linux /proc). */
export function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB/m.exec(status);
  if (!match) throw new Error(`no VmRSS for ${pid}`);
  return Number(match[1]);
}

/** Full GC in each process (SIGUSR2 hook), then their summed RSS in KiB. */
export async function settledRssKb(pids: number[]): Promise<number> {
  for (let i = 0; i < 2; i++) {
    for (const pid of pids) process.kill(pid, 'SIGUSR2');
    await delay(400);
  }
  return pids.reduce((sum, pid) => sum + rssKb(pid), 0);
}

export async function stopAll(children: Array<Running | undefined>): Promise<void> {
  await Promise.all(children.map((child) => child?.stop()));
}
