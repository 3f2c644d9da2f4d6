// Security defaults: unguessable session ids; optional bearer auth (--auth-token / MCP_AUTH_TOKEN)
// with the OAuth protected-resource metadata (RFC 9728) MCP 2025-11-25 clients discover from a
// 401; sessions bound to the principal that opened them; per-worker session and stream limits
// answered 503 + Retry-After.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from 'undici';
import { ErrorCode, McpError } from '../../src/mcp/errors.ts';
import { startCli, type RunningCli } from '../helpers/cli.ts';
import { startTestServer } from '../helpers/in-process.ts';
import { until } from '../helpers/follow.ts';
import { RawSession, type RawStream } from '../helpers/raw-session.ts';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A RawSession that sends `Authorization: Bearer <token>` (or nothing) on every request. */
class AuthSession extends RawSession {
  constructor(url: string, readonly token: string | undefined) {
    super(url);
  }

  override headers(extra: Record<string, string> = {}): Record<string, string> {
    const headers = super.headers(extra);
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`;
    return headers;
  }
}

async function request(url: string, method: string, headers: Record<string, string> = {}, body?: string) {
  const target = new URL(url);
  const client = new Client(target.origin);
  try {
    const res = await client.request({ path: target.pathname, method, headers, body });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, text, json: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
  } finally {
    await client.close();
  }
}

describe('session ids', () => {
  let cli: RunningCli;
  before(async () => {
    cli = await startCli(['--workers', '1']);
  });
  after(async () => cli?.stop());

  test('session ids are random v4 UUIDs: 122 random bits each, unique, every bit balanced', async (t) => {
    const SESSIONS = 256;
    const ids: string[] = [];
    for (let i = 0; i < SESSIONS; i += 32) {
      ids.push(...(await Promise.all(Array.from({ length: 32 }, async () => {
        const session = new RawSession(cli.url);
        await session.open();
        return session.sessionId;
      }))));
    }
    for (const id of ids) assert.match(id, UUID_V4);
    assert.equal(new Set(ids).size, ids.length, 'no id repeats');
    // The 122 random bits (all but the version nibble and the two variant bits): each one is set in
    // about half the ids. Bounds: 50% ± 6.5 standard deviations (a false alarm ~1e-10 per bit).
    const bits = ids.map((id) => {
      const hex = id.replace(/-/g, '');
      const all = [...hex].flatMap((digit) => parseInt(digit, 16).toString(2).padStart(4, '0').split('').map(Number));
      return all.filter((_, index) => !(index >= 48 && index < 52) && index !== 64 && index !== 65);
    });
    assert.equal(bits[0]!.length, 122);
    const sd = Math.sqrt(SESSIONS * 0.25);
    let worst = 0;
    for (let bit = 0; bit < 122; bit++) {
      const ones = bits.reduce((n, row) => n + row[bit]!, 0);
      worst = Math.max(worst, Math.abs(ones - SESSIONS / 2) / sd);
    }
    t.diagnostic(`${SESSIONS} session ids: all v4 UUIDs (122 random bits), unique; largest deviation of a bit from 50%: ${worst.toFixed(2)} σ`);
    assert.ok(worst < 6.5, 'no biased bit');
    // An id that was never issued, or a near miss of a real one, is simply unknown.
    const guess = new RawSession(cli.url);
    guess.sessionId = `${ids[0]!.slice(0, -1)}${ids[0]!.endsWith('0') ? '1' : '0'}`;
    assert.equal((await guess.post({ jsonrpc: '2.0', id: 1, method: 'ping' })).status, 404);
  });
});

describe('bearer auth (MCP_AUTH_TOKEN with two principals)', () => {
  const ALICE = 'alice-token-0123456789abcdef';
  const BOB = 'bob-token-0123456789abcdef01';
  let cli: RunningCli;
  let origin: string;

  before(async () => {
    cli = await startCli(['--workers', '1', '--auth-servers', 'https://auth.example.com'], { MCP_AUTH_TOKEN: `alice:${ALICE},bob:${BOB}` });
    origin = new URL(cli.url).origin;
  });
  after(async () => cli?.stop());

  test('no token: 401 with WWW-Authenticate naming the resource metadata; a wrong token: invalid_token', async () => {
    const anonymous = new AuthSession(cli.url, undefined);
    const refused = await anonymous.post({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } } });
    assert.equal(refused.status, 401);
    assert.equal(refused.headers['www-authenticate'], `Bearer resource_metadata="${origin}/.well-known/oauth-protected-resource"`);
    assert.equal((refused.messages[0]!.error as { code: number }).code, -32600);

    const wrong = await new AuthSession(cli.url, 'not-a-valid-token-at-all').post({ jsonrpc: '2.0', id: 1, method: 'ping' });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers['www-authenticate'], `Bearer resource_metadata="${origin}/.well-known/oauth-protected-resource", error="invalid_token"`);
    const basic = await request(cli.url, 'GET', { authorization: `Basic ${Buffer.from('alice:x').toString('base64')}`, accept: 'text/event-stream' });
    assert.equal(basic.status, 401);
    assert.match(String(basic.headers['www-authenticate']), /error="invalid_token"/);
    // Health needs no token.
    assert.equal((await request(`${origin}/healthz`, 'GET')).status, 200);
  });

  test('the protected-resource metadata (RFC 9728) is served, root and path-suffixed, without a token', async () => {
    for (const path of ['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp']) {
      const reply = await request(`${origin}${path}`, 'GET');
      assert.equal(reply.status, 200, path);
      assert.deepEqual(reply.json, {
        resource: cli.url,
        bearer_methods_supported: ['header'],
        authorization_servers: ['https://auth.example.com'],
      });
    }
  });

  test('a session belongs to its principal: another valid token gets 404 for it, on POST, GET and DELETE', async () => {
    const alice = new AuthSession(cli.url, ALICE);
    await alice.open();
    assert.equal((await alice.post({ jsonrpc: '2.0', id: 1, method: 'ping' })).status, 200);

    const bob = new AuthSession(cli.url, BOB);
    bob.sessionId = alice.sessionId;
    const post = await bob.post({ jsonrpc: '2.0', id: 2, method: 'ping' });
    assert.equal(post.status, 404);
    assert.equal((post.messages[0]!.error as { code: number }).code, -32001);
    const stream = await bob.openStream();
    assert.equal(stream.status, 404);
    await stream.close();
    assert.equal((await bob.delete()).status, 404);
    // Without a token the answer is 401, not 404: authentication comes before the session.
    const anonymous = new AuthSession(cli.url, undefined);
    anonymous.sessionId = alice.sessionId;
    assert.equal((await anonymous.post({ jsonrpc: '2.0', id: 3, method: 'ping' })).status, 401);
    // Alice's session is untouched, and bob has sessions of his own.
    assert.equal((await alice.post({ jsonrpc: '2.0', id: 4, method: 'ping' })).status, 200);
    const own = new AuthSession(cli.url, BOB);
    await own.open();
    assert.equal((await own.post({ jsonrpc: '2.0', id: 5, method: 'ping' })).status, 200);
  });

  test('a bad --auth-token exits 2 with one line that does not echo the token', async () => {
    const failed = await startCli(['--auth-token', 'alice:s3cr3tX']).then(
      () => assert.fail('started with a weak token'),
      (err: Error) => err.message,
    );
    assert.match(failed, /--auth-token \(MCP_AUTH_TOKEN\): the token of "alice" is shorter than 16 characters/);
    assert.doesNotMatch(failed, /s3cr3tX/);
  });
});

describe('a library authenticate hook', () => {
  test('an McpError with httpStatus 401 refuses, with the challenge; the principal binds the session', async () => {
    const server = await startTestServer(() => undefined, {
      http: {
        authenticate: (req) => {
          const key = req.headers['x-api-key'];
          if (typeof key !== 'string') throw new McpError(ErrorCode.InvalidRequest, 'Unauthorized: x-api-key needed', { httpStatus: 401 });
          return `key:${key}`;
        },
        protectedResource: { resource: 'https://mcp.example.com/mcp', authorizationServers: ['https://login.example.com'], scopesSupported: ['mcp'] },
      },
    });
    try {
      const refused = await request(server.url, 'POST', { accept: 'application/json, text/event-stream', 'content-type': 'application/json' }, '{"jsonrpc":"2.0","id":1,"method":"ping"}');
      assert.equal(refused.status, 401);
      assert.equal(refused.headers['www-authenticate'], 'Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource"');
      const metadata = await request(server.url.replace('/mcp', '/.well-known/oauth-protected-resource/mcp'), 'GET');
      assert.deepEqual(metadata.json, {
        resource: 'https://mcp.example.com/mcp',
        bearer_methods_supported: ['header'],
        authorization_servers: ['https://login.example.com'],
        scopes_supported: ['mcp'],
      });
      const one = new (class extends RawSession {
        override headers(extra: Record<string, string> = {}) {
          return { ...super.headers(extra), 'x-api-key': 'one' };
        }
      })(server.url);
      await one.open();
      const other = new (class extends RawSession {
        override headers(extra: Record<string, string> = {}) {
          return { ...super.headers(extra), 'x-api-key': 'two' };
        }
      })(server.url);
      other.sessionId = one.sessionId;
      assert.equal((await other.post({ jsonrpc: '2.0', id: 2, method: 'ping' })).status, 404);
      assert.equal((await one.post({ jsonrpc: '2.0', id: 3, method: 'ping' })).status, 200);
    } finally {
      await server.close();
    }
  });
});

describe('per-worker limits (--max-sessions 3 --max-streams 2)', () => {
  let cli: RunningCli;
  before(async () => {
    cli = await startCli(['--workers', '1', '--max-sessions', '3', '--max-streams', '2', '--session-idle-timeout', '3000']);
  });
  after(async () => cli?.stop());

  test('streams beyond the limit: 503 + Retry-After; a closed stream frees its slot', async () => {
    const sessions = [new RawSession(cli.url), new RawSession(cli.url), new RawSession(cli.url)];
    for (const session of sessions) await session.open();
    const streams: RawStream[] = [await sessions[0]!.openStream(), await sessions[1]!.openStream()];
    assert.deepEqual(streams.map((s) => s.status), [200, 200]);
    const refused = await request(cli.url, 'GET', sessions[2]!.headers({ accept: 'text/event-stream' }));
    assert.equal(refused.status, 503);
    assert.equal(refused.headers['retry-after'], '1');
    assert.equal((refused.json!.error as { code: number }).code, -32603);
    await streams[0]!.close();
    let third: RawStream | undefined;
    await until(async () => {
      const attempt = await sessions[2]!.openStream();
      if (attempt.status === 200) third = attempt;
      else await attempt.close();
      return third !== undefined;
    }, 5_000, 'a free stream slot');
    await third!.close();
    await streams[1]!.close();

    // Sessions: the worker opened 3; a 4th initialize is refused until one ends.
    const fourth = new RawSession(cli.url);
    await assert.rejects(fourth.open(), /initialize failed: 503/);
    const full = await fourth.post({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } } });
    assert.equal(full.status, 503);
    assert.equal(full.headers['retry-after'], '5');
    assert.equal((await sessions[0]!.delete()).status, 200);
    await fourth.open();
  });

  test('sessions that expired free their slots (the limit asks the store before refusing)', async (t) => {
    const started = Date.now();
    let opened: string | undefined;
    await until(async () => {
      const session = new RawSession(cli.url);
      try {
        await session.open();
        opened = session.sessionId;
        return true;
      } catch {
        return false;
      }
    }, 8_000, 'an idle session to expire and free a slot');
    t.diagnostic(`a slot freed by idle expiry after ${Date.now() - started} ms (idle timeout 3000 ms)`);
    assert.ok(opened);
  });
});
