import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergeHeaders } from '../../src/http/respond.ts';

describe('mergeHeaders', () => {
  it('merges left to right, later parts winning, and skips missing parts', () => {
    const base = { 'mcp-worker-id': 'w1', 'cache-control': 'no-cache' };
    const merged = mergeHeaders(base, undefined, { 'cache-control': 'no-store', 'content-length': '2' });
    assert.deepEqual(merged, { 'mcp-worker-id': 'w1', 'cache-control': 'no-store', 'content-length': '2' });
    assert.deepEqual(mergeHeaders(undefined), {});
  });

  it('returns a new object and leaves its parts untouched', () => {
    const base = { 'mcp-worker-id': 'w1' };
    const merged = mergeHeaders(base, { 'mcp-session-id': 's' });
    merged['x-extra'] = '1';
    assert.deepEqual(base, { 'mcp-worker-id': 'w1' });
    assert.notEqual(merged, base);
  });
});
