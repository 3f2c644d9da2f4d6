// Reads a request body up to a limit; the caller maps the failures to 413 / 400.

import type { IncomingMessage } from 'node:http';

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`Request body exceeds ${limit} bytes`);
  }
}

/** Deepest JSON nesting accepted in a request body (arrays and objects). */
export const MAX_JSON_DEPTH = 512;

/**
 * Whether the JSON text nests arrays/objects deeper than `max`: one pass over the bytes, no
 * recursion. (JSON.parse itself is iterative; JSON.stringify, structuredClone and validators
 * that later walk the value recurse, and would hit the stack limit on 100k levels.)
 */
export function nestingExceeds(raw: Buffer, max: number): boolean {
  if (raw.length <= max) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const byte = raw[i]!;
    if (inString) {
      if (byte === 0x5c) i++; // backslash: skip the escaped byte
      else if (byte === 0x22) inString = false;
    } else if (byte === 0x22) {
      inString = true;
    } else if (byte === 0x5b || byte === 0x7b) {
      if (++depth > max) return true;
    } else if (byte === 0x5d || byte === 0x7d) {
      depth--;
    }
  }
  return false;
}

/**
 * The whole body, or BodyTooLargeError past `limit`. Plain stream events rather than an async
 * iterator: this runs for every POST, and the iterator's machinery costs more than the read.
 * (`on` rather than `once`: each event comes once, `settled` guards the rest, and `once` would
 * build a wrapper per listener per request.)
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new BodyTooLargeError(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    req.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size > limit) {
        settled = true;
        reject(new BodyTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (settled) return;
      settled = true;
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    req.on('error', (err) => {
      if (settled) return;
      settled = true;
      reject(err);
    });
    req.on('close', () => {
      if (settled) return;
      settled = true;
      reject(new Error('The client closed the connection before sending the whole body'));
    });
  });
}
