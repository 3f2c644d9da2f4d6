// DELETE /mcp: the client ends its session; its id answers 404 from then on, on every worker.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendEmpty } from './respond.ts';
import { requireSession, versionHeaderOf } from './session.ts';
import type { Transport } from './transport.ts';

export async function handleDelete(t: Transport, req: IncomingMessage, res: ServerResponse, principal: string | undefined): Promise<void> {
  versionHeaderOf(req);
  const session = await requireSession(req, t.server, principal);
  await t.server.closeSession(session.id);
  t.sessionLimit?.closed(session.id);
  sendEmpty(res, 200, t.baseHeaders);
}
