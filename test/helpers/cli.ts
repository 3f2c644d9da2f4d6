// Runs the real CLI (`src/cli/main.ts`) as a child process, the way users run it, and waits for
// its start-up line to learn the URL.

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const START_TIMEOUT_MS = 20_000;

export interface RunningCli {
  url: string;
  child: ChildProcess;
  /** Every stdout line so far (pino JSON lines). */
  lines: string[];
  /** Resolves with the first line matching `pattern` (already seen or yet to come). */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Sends `signal` (default SIGTERM) and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** One worker unless `args` say otherwise (the CLI's own default is one per core). */
export async function startCli(args: string[], env: Record<string, string> = {}): Promise<RunningCli> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--port', '0', '--log-level', 'info', '--workers', '1', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const lines: string[] = [];
  const waiters = new Set<{ pattern: RegExp; resolve: (line: string) => void }>();
  const stderr: string[] = [];
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
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
      const waiter = {
        pattern,
        resolve: (line: string) => {
          clearTimeout(timer);
          child.off('exit', onExit);
          resolve(line);
        },
      };
      const onExit = (code: number | null) => {
        waiters.delete(waiter);
        clearTimeout(timer);
        reject(new Error(`CLI exited (${code}) before printing ${pattern}: ${stderr.join('')}`));
      };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        child.off('exit', onExit);
        reject(new Error(`timed out waiting for ${pattern}; stderr: ${stderr.join('')}`));
      }, timeoutMs);
      waiters.add(waiter);
      child.once('exit', onExit);
    });
  };

  const startLine = await waitForLine(/listening on http/);
  const url = /listening on (http:\/\/\S+?\/mcp)/.exec(startLine)![1]!;
  return {
    url,
    child,
    lines,
    waitForLine,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const [code] = (await once(child, 'exit')) as [number | null];
      return code;
    },
  };
}

export interface LogLine {
  msg: string;
  level?: number;
  [key: string]: unknown;
}

/** The CLI's stdout so far, as pino log records (lines that are not JSON are skipped). */
export function logLines(cli: RunningCli): LogLine[] {
  return cli.lines.flatMap((line) => {
    try {
      return [JSON.parse(line) as LogLine];
    } catch {
      return [];
    }
  });
}
