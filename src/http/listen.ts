// `subscriptions/listen` (2026-07-28): a POST whose response is a long-lived SSE stream of the
// change notifications the client asked for. The subscription is live (through the cluster's
// subscription broker) before the acknowledgement goes out, so a change triggered as soon as
// the client sees the acknowledgement reaches it, whichever worker triggers it.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { invalidParams } from '../mcp/errors.ts';
import type { JsonRpcRequest } from '../mcp/jsonrpc.ts';
import type { MessageOrigin } from '../mcp/server.ts';
import { META_SERVER_INFO, META_SUBSCRIPTION_ID } from '../mcp/stateless.ts';
import { TOPICS } from '../topics/topics.ts';
import { UnavailableError } from './limits.ts';
import { sendStatelessError } from './stateless-respond.ts';
import { SseStream } from './sse.ts';
import type { Transport } from './transport.ts';

interface Filter {
  toolsListChanged?: true;
  promptsListChanged?: true;
  resourcesListChanged?: true;
  resourceSubscriptions?: string[];
}

/** Topic of each honoured filter field, and the notification an event on it becomes. */
const LIST_TOPICS = [
  ['toolsListChanged', TOPICS.toolsListChanged, 'notifications/tools/list_changed'],
  ['promptsListChanged', TOPICS.promptsListChanged, 'notifications/prompts/list_changed'],
  ['resourcesListChanged', TOPICS.resourcesListChanged, 'notifications/resources/list_changed'],
] as const;

export async function handleListen(
  t: Transport,
  _req: IncomingMessage,
  res: ServerResponse,
  request: JsonRpcRequest,
  _origin: MessageOrigin,
): Promise<void> {
  const requested = request.params?.notifications;
  if (typeof requested !== 'object' || requested === null || Array.isArray(requested)) {
    return sendStatelessError(t, res, request.id, invalidParams('subscriptions/listen needs params.notifications (an object)'));
  }
  if (t.listeners >= t.maxListeners) {
    return sendStatelessError(t, res, request.id, new UnavailableError(`This worker holds ${t.maxListeners} listen streams already; retry later`));
  }
  // Honour what the client asked for and this server backs (it backs every kind).
  const asked = requested as Record<string, unknown>;
  const honoured: Filter = {};
  const topics: string[] = [];
  const notificationOf = new Map<string, string>();
  for (const [field, topic, method] of LIST_TOPICS) {
    if (asked[field] !== true) continue;
    honoured[field] = true;
    topics.push(topic);
    notificationOf.set(topic, method);
  }
  const uris = Array.isArray(asked.resourceSubscriptions) ? asked.resourceSubscriptions.filter((uri): uri is string => typeof uri === 'string') : [];
  if (uris.length > 0) {
    honoured.resourceSubscriptions = [...new Set(uris)];
    for (const uri of honoured.resourceSubscriptions) topics.push(TOPICS.resourceUpdated(uri));
  }

  const subscriptionId = request.id;
  const tagged = (method: string, params: Record<string, unknown> = {}) =>
    JSON.stringify({ jsonrpc: '2.0', method, params: { ...params, _meta: { [META_SUBSCRIPTION_ID]: subscriptionId } } });

  let stream: SseStream | undefined;
  const early: string[] = [];
  const write = (data: string) => (stream ? stream.send({ event: 'message', data }) : early.push(data));
  const stop = await t.server.topics.subscribe(topics, (topic, event) => {
    const method = notificationOf.get(topic);
    if (method) write(tagged(method));
    else write(tagged('notifications/resources/updated', { uri: (event as { uri?: string } | null)?.uri ?? topic.slice(topic.indexOf(':') + 1) }));
  });
  if (res.destroyed) {
    await stop();
    return;
  }
  t.listeners++;
  stream = new SseStream(res, { headers: t.baseHeaders, heartbeatMs: t.heartbeatMs, maxBufferedBytes: t.maxStreamBufferBytes });
  t.streams.add(stream);
  const sse = stream;
  sse.onClose(() => {
    t.listeners--;
    t.streams.delete(sse);
    void stop().catch(() => undefined);
  });
  // When the server ends the stream (shutdown), the listen request gets its result.
  sse.setFinalFrame(() =>
    sse.send({
      event: 'message',
      data: JSON.stringify({
        jsonrpc: '2.0',
        id: subscriptionId,
        result: { resultType: 'complete', _meta: { [META_SUBSCRIPTION_ID]: subscriptionId, [META_SERVER_INFO]: t.server.info } },
      }),
    }),
  );
  sse.send({ event: 'message', data: tagged('notifications/subscriptions/acknowledged', { notifications: honoured }) });
  for (const data of early.splice(0)) sse.send({ event: 'message', data });
}
