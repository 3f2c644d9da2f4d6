// pm2 runs ONE process: our node:cluster primary, which forks the HTTP workers itself.
//
//   pm2 start pm2.config.cjs
//   PORT=8080 MCP_WORKERS=4 REDIS_URL=redis://127.0.0.1:6379 pm2 start pm2.config.cjs
//
// Fork mode, one instance, never pm2's cluster mode (`-i N`): our primary hosts the IPC hub that
// holds sessions and routes stream messages between workers (the default without Redis), and it
// restarts crashed workers, drains them on SIGINT/SIGTERM and replaces them one by one on SIGHUP.
// Under pm2's cluster mode pm2 would be the node:cluster primary and our CLI a node:cluster
// worker (it would run as one of OUR workers, waiting for a primary of ours that does not
// exist): no hub, no restarts, no drain. The number of workers is MCP_WORKERS, not `instances`.
//
// Zero-downtime worker replacement (e.g. after a deploy): `pm2 sendSignal SIGHUP mcp-cluster`:
// the primary replaces its workers one at a time. `pm2 reload` / `pm2 restart` restart the
// primary itself, and with it every worker (in fork mode pm2 has nothing to reload gracefully).
//
// Configuration: every option of `npm start -- --help` has an environment variable (PORT, HOST,
// MCP_WORKERS, REDIS_URL, MCP_CHANNEL_PREFIX, MCP_SHUTDOWN_TIMEOUT, LOG_LEVEL, ...). pm2 passes
// the environment of the shell that runs `pm2 start` to the app, so set them there. Logs are
// pino JSON lines in pm2's out log (`pm2 logs mcp-cluster`); the primary's start-up line is
// `mcp-cluster listening on http://HOST:PORT/mcp (workers: N, broker: ...)`.

const { availableParallelism } = require('node:os');
const { join } = require('node:path');

const env = process.env;
const shutdownTimeoutMs = Number(env.MCP_SHUTDOWN_TIMEOUT) || 10_000; // the CLI's default

module.exports = {
  apps: [
    {
      name: 'mcp-cluster',
      cwd: __dirname,
      // A tiny ESM launcher: pm2's container cannot load our .ts entry on Node 20 without
      // complaining, and node:cluster workers must run the CLI, not pm2's container.
      script: join(__dirname, 'src/cli/pm2-entry.mjs'),
      interpreter: 'node',
      interpreter_args: '--import tsx',
      exec_mode: 'fork',
      instances: 1,
      env: {
        // The CLI defaults to one worker; under pm2 the point is several, one per core.
        MCP_WORKERS: env.MCP_WORKERS || String(availableParallelism()),
      },

      // Online once every worker listens: the primary then calls process.send('ready').
      // (Without it by then, pm2 declares the app online anyway.)
      wait_ready: true,
      listen_timeout: 30_000,

      // pm2 stop/restart sends SIGINT (handled like SIGTERM: drain) to the primary and its
      // workers (treekill), then SIGKILL after kill_timeout. The primary gives workers the drain
      // deadline plus 2 s before it kills them itself: kill_timeout must be longer than that.
      treekill: true,
      kill_timeout: shutdownTimeoutMs + 5_000,

      // Restarts, bounded. A bad option exits 2 and the same config fails the same way: never
      // restart it. Other early exits (Redis unreachable: 1; the primary gave up on a worker crash
      // loop: 1) are retried a few times, then pm2 marks the app errored instead of spinning.
      stop_exit_codes: [2],
      min_uptime: 10_000,
      max_restarts: 5,

      // The primary restarts crashed workers itself; pm2 only ever restarts the primary.
      autorestart: true,
      watch: false,
      // Log files without the instance suffix: logs/mcp-cluster-out.log, logs/mcp-cluster-error.log.
      merge_logs: true,
    },
  ],
};
