// Opaque cursors for list methods (spec: cursors are opaque strings the client must not parse).

import { invalidParams } from '../errors.ts';

const PREFIX = 'o:';

export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

export function paginate<T>(items: readonly T[], cursor: unknown, pageSize: number): Page<T> {
  let offset = 0;
  if (cursor !== undefined) {
    if (typeof cursor !== 'string') throw invalidParams('cursor must be a string');
    const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
    const parsed = decoded.startsWith(PREFIX) ? Number(decoded.slice(PREFIX.length)) : Number.NaN;
    if (!Number.isInteger(parsed) || parsed < 0 || parsed > items.length) throw invalidParams('Invalid cursor');
    offset = parsed;
  }
  const end = offset + pageSize;
  const page: Page<T> = { items: items.slice(offset, end) };
  if (end < items.length) page.nextCursor = Buffer.from(`${PREFIX}${end}`).toString('base64url');
  return page;
}
