// The built-in apps the CLI can serve (`--app`).

import type { McpServer } from '../mcp/server.ts';
import { registerConformanceApp } from './conformance.ts';
import { registerDemoApp } from './demo.ts';

export interface AppContext {
  workerId: string;
}

export const APPS: Record<string, { title: string; register: (server: McpServer, context: AppContext) => void }> = {
  demo: { title: 'mcp-cluster demo', register: registerDemoApp },
  conformance: { title: 'mcp-cluster conformance fixtures', register: (server) => registerConformanceApp(server) },
};
