// The official MCP TypeScript SDK client, connected over real HTTP.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

export interface ConnectedClient {
  client: Client;
  transport: StreamableHTTPClientTransport;
  sessionId: string;
  close(): Promise<void>;
}

export async function connectClient(
  url: string,
  options: { capabilities?: Record<string, unknown>; name?: string } = {},
): Promise<ConnectedClient> {
  const client = new Client({ name: options.name ?? 'test-client', version: '1.0.0' }, { capabilities: options.capabilities ?? {} });
  const transport = new StreamableHTTPClientTransport(new URL(url));
  await client.connect(transport);
  return {
    client,
    transport,
    sessionId: transport.sessionId!,
    close: () => client.close(),
  };
}
