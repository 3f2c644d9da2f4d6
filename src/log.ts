// The process logger: pino, one child per worker. JSON lines on stdout (logs are data), or
// human-readable lines through pino-pretty when stdout is a terminal. pino-pretty is an optional
// dependency: without it, the logger falls back to JSON.

import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/** `auto`: pretty when stdout is a TTY and pino-pretty is installed, JSON otherwise. */
export type LogFormat = 'auto' | 'json' | 'pretty';

/** The part of pino-pretty's API used here (it is optional: no type import). */
type PrettyFactory = (options: Record<string, unknown>) => DestinationStream;

export function loadPinoPretty(): PrettyFactory | undefined {
  try {
    const loaded = createRequire(import.meta.url)('pino-pretty') as PrettyFactory | { default: PrettyFactory };
    return typeof loaded === 'function' ? loaded : loaded.default;
  } catch {
    return undefined;
  }
}

export function createLogger(
  level: LevelWithSilent,
  bindings: Record<string, unknown> = {},
  format: LogFormat = 'auto',
  loadPretty: () => PrettyFactory | undefined = loadPinoPretty,
): Logger {
  const options = { level, base: { pid: process.pid, ...bindings } };
  const tty = process.stdout.isTTY === true;
  const pretty = format === 'pretty' || (format === 'auto' && tty) ? loadPretty() : undefined;
  if (!pretty) {
    const logger = pino(options);
    if (format === 'pretty') logger.warn('--log-format pretty: pino-pretty is not installed; logging JSON');
    return logger;
  }
  const stream = pretty({
    // Synchronous, like pino's default destination: nothing is lost on process.exit().
    sync: true,
    colorize: tty,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,worker,role',
    messageFormat: '{if role}{role} {end}{if worker}{worker} {end}{msg}',
  });
  return pino(options, stream);
}
