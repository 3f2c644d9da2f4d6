// Flags, environment variables and an optional JSON file (`--config`, file.ts) merged and
// validated in one place: flags > env > file > defaults. A bad value is a ConfigError naming the
// option (and the file it came from); the CLI prints it on one line and exits 2.

import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { parseAuthTokens } from '../http/auth.ts';
import { ConfigFileError, readConfigFile, type FileValue } from './file.ts';

export class ConfigError extends Error {}

interface OptionSpec {
  flag: string;
  env: string;
  description: string;
  type: 'string' | 'boolean';
}

/** Every option, its flag, its environment variable and its meaning: --help prints this table. */
export const OPTIONS = {
  configFile: { flag: 'config', env: 'MCP_CONFIG', type: 'string', description: 'JSON file of options, keyed by flag name; flags and env win over it' },
  port: { flag: 'port', env: 'PORT', type: 'string', description: 'TCP port (0: any free port)' },
  host: { flag: 'host', env: 'HOST', type: 'string', description: 'Bind address; 0.0.0.0 exposes the server to the network' },
  workers: { flag: 'workers', env: 'MCP_WORKERS', type: 'string', description: 'HTTP worker processes' },
  app: { flag: 'app', env: 'MCP_APP', type: 'string', description: 'Built-in app to serve: demo or conformance' },
  redisUrl: { flag: 'redis-url', env: 'REDIS_URL', type: 'string', description: 'Redis for broker and sessions (multi-host)' },
  channelPrefix: { flag: 'channel-prefix', env: 'MCP_CHANNEL_PREFIX', type: 'string', description: 'Prefix of Redis channels and keys' },
  shutdownTimeoutMs: { flag: 'shutdown-timeout', env: 'MCP_SHUTDOWN_TIMEOUT', type: 'string', description: 'Drain deadline on SIGTERM, ms' },
  logLevel: { flag: 'log-level', env: 'LOG_LEVEL', type: 'string', description: 'trace, debug, info, warn, error, fatal or silent' },
  logFormat: { flag: 'log-format', env: 'LOG_FORMAT', type: 'string', description: 'json, pretty (needs pino-pretty) or auto: pretty on a terminal' },
  maxBodyBytes: { flag: 'max-body-bytes', env: 'MCP_MAX_BODY_BYTES', type: 'string', description: 'Largest request body (413 above)' },
  allowedHosts: { flag: 'allowed-hosts', env: 'MCP_ALLOWED_HOSTS', type: 'string', description: 'Comma-separated Host names accepted besides loopback' },
  allowedOrigins: { flag: 'allowed-origins', env: 'MCP_ALLOWED_ORIGINS', type: 'string', description: 'Comma-separated Origins accepted' },
  sessionIdleTimeoutMs: { flag: 'session-idle-timeout', env: 'MCP_SESSION_IDLE_TIMEOUT', type: 'string', description: 'Forget sessions idle this long, ms' },
  heartbeatMs: { flag: 'heartbeat', env: 'MCP_HEARTBEAT', type: 'string', description: 'SSE heartbeat interval, ms' },
  stateSecret: { flag: 'state-secret', env: 'MCP_STATE_SECRET', type: 'string', description: 'Key signing requestState (2026-07-28); same on every host (Redis mode shares one by itself)' },
  replay: { flag: 'replay', env: 'MCP_REPLAY', type: 'boolean', description: 'Retain stream events for Last-Event-ID resume' },
  replayMaxLength: { flag: 'replay-max-length', env: 'MCP_REPLAY_MAX_LENGTH', type: 'string', description: 'Events retained per stream' },
  replayTtlMs: { flag: 'replay-ttl', env: 'MCP_REPLAY_TTL', type: 'string', description: 'Forget a stream this long after its last event, ms' },
  retryMs: { flag: 'sse-retry', env: 'MCP_SSE_RETRY', type: 'string', description: 'retry: hint sent to SSE clients, ms' },
  ssePollMs: { flag: 'sse-poll', env: 'MCP_SSE_POLL', type: 'string', description: 'With --replay: end GET streams after this long (SSE polling), ms; 0 = never' },
  threads: { flag: 'threads', env: 'MCP_THREADS', type: 'string', description: 'Worker threads per HTTP worker for CPU-heavy tools (auto: cores / workers)' },
  authToken: { flag: 'auth-token', env: 'MCP_AUTH_TOKEN', type: 'string', description: 'Require a bearer token: token, or principal:token,principal:token,...' },
  authServers: { flag: 'auth-servers', env: 'MCP_AUTH_SERVERS', type: 'string', description: 'Comma-separated authorization server URLs for the OAuth resource metadata' },
  publicUrl: { flag: 'public-url', env: 'MCP_PUBLIC_URL', type: 'string', description: 'Public URL of the /mcp endpoint (OAuth resource id); default http://<Host>/mcp' },
  maxSessions: { flag: 'max-sessions', env: 'MCP_MAX_SESSIONS', type: 'string', description: 'Sessions a worker opens at most (503 + Retry-After above); 0 = unlimited' },
  maxStreams: { flag: 'max-streams', env: 'MCP_MAX_STREAMS', type: 'string', description: 'GET streams a worker holds at most (503 + Retry-After above); 0 = unlimited' },
  maxStreamBufferBytes: { flag: 'max-stream-buffer', env: 'MCP_MAX_STREAM_BUFFER', type: 'string', description: 'Unsent bytes after which a slow SSE client is cut off (it resumes)' },
} as const satisfies Record<string, OptionSpec>;

const DEFAULTS = {
  port: 3000,
  host: '127.0.0.1',
  // One worker per core unless told otherwise (issue: scale out by default).
  workers: availableParallelism(),
  app: 'demo',
  channelPrefix: 'mcp',
  shutdownTimeoutMs: 10_000,
  logLevel: 'info',
  logFormat: 'auto',
  maxBodyBytes: 4 * 1024 * 1024,
  sessionIdleTimeoutMs: 60 * 60 * 1000,
  heartbeatMs: 15_000,
  threads: 'auto',
  replay: false,
  replayMaxLength: 1000,
  replayTtlMs: 5 * 60_000,
  retryMs: 1000,
  ssePollMs: 0,
  maxSessions: 0,
  maxStreams: 0,
  maxStreamBufferBytes: 8 * 1024 * 1024,
} as const;

const list = z
  .string()
  .transform((value) => value.split(',').map((item) => item.trim()).filter((item) => item.length > 0));

const ConfigSchema = z.object({
  port: z.coerce.number().int().min(0).max(65535).default(DEFAULTS.port),
  host: z.string().min(1).default(DEFAULTS.host),
  workers: z.coerce.number().int().min(1).max(256).default(DEFAULTS.workers),
  app: z.enum(['demo', 'conformance']).default(DEFAULTS.app),
  redisUrl: z
    .string()
    .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
    .optional(),
  channelPrefix: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - only')
    .default(DEFAULTS.channelPrefix),
  shutdownTimeoutMs: z.coerce.number().int().min(0).default(DEFAULTS.shutdownTimeoutMs),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default(DEFAULTS.logLevel),
  logFormat: z.enum(['auto', 'json', 'pretty']).default(DEFAULTS.logFormat),
  configFile: z.string().optional(),
  maxBodyBytes: z.coerce.number().int().min(1024).default(DEFAULTS.maxBodyBytes),
  allowedHosts: list.default([]),
  allowedOrigins: list.default([]),
  sessionIdleTimeoutMs: z.coerce.number().int().min(1000).default(DEFAULTS.sessionIdleTimeoutMs),
  heartbeatMs: z.coerce.number().int().min(0).default(DEFAULTS.heartbeatMs),
  threads: z.preprocess((value) => (value === 'auto' ? undefined : value), z.coerce.number().int().min(1).max(1024).optional()),
  replay: z
    .union([z.boolean(), z.enum(['true', 'false', '1', '0'])])
    .transform((value) => value === true || value === 'true' || value === '1')
    .default(DEFAULTS.replay),
  stateSecret: z.string().min(16, 'at least 16 characters').optional(),
  replayMaxLength: z.coerce.number().int().min(1).max(1_000_000).default(DEFAULTS.replayMaxLength),
  replayTtlMs: z.coerce.number().int().min(1000).default(DEFAULTS.replayTtlMs),
  retryMs: z.coerce.number().int().min(0).default(DEFAULTS.retryMs),
  ssePollMs: z.coerce.number().int().min(0).default(DEFAULTS.ssePollMs),
  authToken: z
    .string()
    .superRefine((value, ctx) => {
      try {
        parseAuthTokens(value);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
    })
    .optional(),
  authServers: list.pipe(z.array(z.url())).default([]),
  publicUrl: z.url().optional(),
  maxSessions: z.coerce.number().int().min(0).default(DEFAULTS.maxSessions),
  maxStreams: z.coerce.number().int().min(0).default(DEFAULTS.maxStreams),
  maxStreamBufferBytes: z.coerce.number().int().min(1024).default(DEFAULTS.maxStreamBufferBytes),
}).transform((config) => ({ ...config, threads: config.threads ?? defaultThreads(config.workers) }));

export type Config = z.output<typeof ConfigSchema>;
type OptionName = keyof typeof OPTIONS;

/** Parses argv, env and the `--config` file (flags > env > file) into a validated Config. */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): Config {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: Object.fromEntries(Object.values(OPTIONS).map((spec) => [spec.flag, { type: spec.type }])),
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new ConfigError((err as Error).message.split('\n')[0]);
  }
  const configFile = (values[OPTIONS.configFile.flag] as string | undefined) || env[OPTIONS.configFile.env] || undefined;
  let file: Record<string, FileValue> = {};
  if (configFile !== undefined) {
    const keys = new Set(Object.values(OPTIONS).map((spec) => spec.flag).filter((flag) => flag !== OPTIONS.configFile.flag));
    try {
      file = readConfigFile(configFile, keys);
    } catch (err) {
      if (err instanceof ConfigFileError) throw new ConfigError(`--config (MCP_CONFIG): ${err.message}`);
      throw err;
    }
  }
  const raw: Record<string, unknown> = {};
  const fromFile = new Set<string>();
  for (const [name, spec] of Object.entries(OPTIONS) as Array<[OptionName, OptionSpec]>) {
    const value = values[spec.flag] ?? env[spec.env];
    if (value !== undefined && value !== '') raw[name] = value;
    else if (file[spec.flag] !== undefined) {
      raw[name] = file[spec.flag];
      fromFile.add(name);
    }
  }
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = issue.path[0] as OptionName;
    const spec = OPTIONS[name];
    const where = fromFile.has(name) ? `"${spec.flag}" in ${configFile}` : spec.env;
    throw new ConfigError(`--${spec.flag} (${where}): ${issue.message}`);
  }
  return parsed.data;
}

export function defaultWorkers(): number {
  return availableParallelism();
}

/** Threads per worker so that workers × threads fits the cores. */
export function defaultThreads(workers: number): number {
  return Math.max(1, Math.floor(availableParallelism() / workers));
}

export function helpText(): string {
  const lines = ['Usage: mcp-cluster [options]', '', 'Options (flag, environment variable, default):'];
  for (const [name, spec] of Object.entries(OPTIONS) as Array<[OptionName, OptionSpec]>) {
    const fallback = name in DEFAULTS ? String(DEFAULTS[name as keyof typeof DEFAULTS]) : 'unset';
    lines.push(`  --${spec.flag.padEnd(22)} ${spec.env.padEnd(26)} ${fallback.padEnd(10)} ${spec.description}`);
  }
  lines.push('  --help                 Print this text');
  lines.push('', 'Precedence: flags, then environment variables, then the --config file, then defaults.');
  lines.push('Config file: a JSON object keyed by flag name, e.g. {"workers": 4, "redis-url": "redis://...", "replay": true}.');
  return lines.join('\n');
}
