// Configuration from flags, environment and a JSON file, merged in one place (flags > env > file >
// defaults), and the logs an operator reads: pino JSON lines bound to the worker, the request and
// the session; human-readable through pino-pretty when asked (or on a terminal), JSON without it.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { ConfigError, helpText, loadConfig } from '../../src/config/config.ts';
import { startCli, type RunningCli } from '../helpers/cli.ts';
import { eventually } from '../helpers/in-process.ts';
import { RawSession } from '../helpers/raw-session.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'src/cli/main.ts');
const dir = mkdtempSync(join(tmpdir(), 'mcp-cluster-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
function configFile(content: unknown): string {
  const path = join(dir, `config-${++files}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

function configError(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  assert.fail('expected a ConfigError');
}

describe('configuration: flags > env > file > defaults, validated in one place', () => {
  test('each source wins over the ones below it', () => {
    const file = configFile({ port: 4001, workers: 3, 'log-level': 'warn', replay: true, 'allowed-hosts': ['a.example', 'b.example'] });
    const config = loadConfig(['--config', file, '--port', '4003'], { PORT: '4002', MCP_WORKERS: '2' });
    assert.equal(config.port, 4003, 'flag over env and file');
    assert.equal(config.workers, 2, 'env over file');
    assert.equal(config.logLevel, 'warn', 'file over default');
    assert.equal(config.replay, true);
    assert.deepEqual(config.allowedHosts, ['a.example', 'b.example'], 'a list in the file');
    assert.equal(config.channelPrefix, 'mcp', 'default');
    assert.equal(loadConfig([], { MCP_CONFIG: file }).port, 4001, 'the file named by MCP_CONFIG');
  });

  test('a bad file value is one line naming the option and the file; so is a bad file', () => {
    const file = configFile({ port: 99999 });
    assert.match(configError(() => loadConfig(['--config', file], {})), new RegExp(`^--port \\("port" in ${file}\\): .*65535`));
    // The same value from the environment names the environment variable.
    assert.match(configError(() => loadConfig([], { PORT: '99999' })), /^--port \(PORT\): /);
    // A valid env value hides the bad file value: env wins.
    assert.equal(loadConfig(['--config', file], { PORT: '1' }).port, 1);

    assert.match(configError(() => loadConfig(['--config', configFile({ prot: 1 })], {})), /^--config \(MCP_CONFIG\): unknown option "prot" in /);
    assert.match(configError(() => loadConfig(['--config', configFile('{"port": ')], {})), /^--config \(MCP_CONFIG\): .* is not valid JSON/);
    assert.match(configError(() => loadConfig(['--config', configFile([1, 2])], {})), /must hold a JSON object/);
    assert.match(configError(() => loadConfig(['--config', configFile({ host: { a: 1 } })], {})), /"host" in .*: expected a string/);
    assert.match(configError(() => loadConfig(['--config', join(dir, 'missing.json')], {})), /^--config \(MCP_CONFIG\): cannot read .*missing\.json: no such file$/);
    for (const message of [configError(() => loadConfig(['--config', configFile({ workers: 'many' })], {}))]) {
      assert.equal(message.split('\n').length, 1);
    }
  });

  test('the CLI exits 2 with that one line; --help lists every option with its env name and default', () => {
    const file = configFile({ 'log-format': 'fancy' });
    const result = spawnSync(process.execPath, ['--import', 'tsx', MAIN, '--config', file], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(result.status, 2);
    assert.equal(result.stderr.trim().split('\n').length, 1);
    assert.match(result.stderr, /^mcp-cluster: --log-format \("log-format" in .*\): /);

    const help = helpText();
    assert.match(help, /--config\s+MCP_CONFIG\s+unset/);
    assert.match(help, /--log-format\s+LOG_FORMAT\s+auto/);
    assert.match(help, /--log-level\s+LOG_LEVEL\s+info/);
    assert.match(help, /flags, then environment variables, then the --config file, then defaults/);
  });
});

describe('logs of a running server (config file: replay and sse-retry; env: sse-retry)', () => {
  let cli: RunningCli;
  let session: RawSession;
  before(async () => {
    const file = configFile({ replay: true, 'sse-retry': 1234, 'log-level': 'warn' });
    // startCli passes --log-level info; the later flag wins.
    cli = await startCli(['--config', file, '--log-level', 'debug'], { MCP_SSE_RETRY: '4321' });
    session = new RawSession(cli.url);
    await session.open();
  });
  after(async () => {
    await cli.stop();
  });

  test('the file turned replay on; the environment overrode its sse-retry', async () => {
    const stream = await session.openStream();
    try {
      // With replay, a GET stream starts with a priming event: an id and the retry hint.
      const priming = await stream.waitFor((event) => event.id !== undefined);
      assert.match(priming.id!, /^g\/\d+$/);
      await eventually(() => stream.retries.length > 0, 5_000, 'retry hint');
      assert.equal(stream.retries[0], 4321);
    } finally {
      await stream.close();
    }
  });

  test('at debug level every request is one JSON line bound to the worker, its request id and its session', async () => {
    const res = await fetch(cli.url, {
      method: 'POST',
      headers: session.headers({ 'x-request-id': 'req-42' }),
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    await res.text();
    const line = await cli.waitForLine(/"reqId":"req-42"/, 5_000);
    const entry = JSON.parse(line) as Record<string, unknown>;
    assert.equal(entry.level, 20);
    assert.equal(entry.worker, 'w1');
    assert.equal(entry.session, session.sessionId);
    assert.equal(entry.method, 'POST');
    assert.equal(entry.status, 200);
    assert.equal(typeof entry.ms, 'number');
    // Without X-Request-Id the server makes one up; initialize is bound to the session it opened.
    const opened = cli.lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((e) => e.msg === 'request' && e.session === session.sessionId && e.reqId !== 'req-42');
    assert.ok(opened && typeof opened.reqId === 'string' && opened.reqId.length > 0, 'initialize logged with its session');
  });
});

describe('log format', () => {
  test('pretty through pino-pretty, JSON when it is missing, JSON by default off a terminal', () => {
    const script = `
      import { createLogger } from ${JSON.stringify(join(ROOT, 'src/log.ts'))};
      createLogger('info', { worker: 'w1' }, 'pretty').info({ url: 'x' }, 'hello pretty');
      createLogger('info', { worker: 'w1' }, 'pretty', () => undefined).info('hello fallback');
      createLogger('info', { worker: 'w1' }, 'auto').info('hello auto');
    `;
    const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });
    assert.equal(result.status, 0, result.stderr);
    const lines = result.stdout.trim().split('\n');
    const pretty = lines.find((line) => line.includes('hello pretty'))!;
    assert.match(pretty, /INFO.*: w1 hello pretty$/);
    const json = lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
    // Each logger has its own destination: lines of different loggers may interleave.
    assert.deepEqual(
      json.map((entry) => [entry.worker, entry.msg]).sort(),
      [
        ['w1', '--log-format pretty: pino-pretty is not installed; logging JSON'],
        ['w1', 'hello auto'],
        ['w1', 'hello fallback'],
      ],
    );
  });
});
