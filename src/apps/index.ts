// The built-in apps the CLI can serve (`--app`).

import type { McpServer } from '../mcp/server.ts';
import type { ToolPool } from '../pool/pool.ts';
import { registerConformanceApp } from './conformance.ts';
import { registerDemoApp } from './demo.ts';

export interface AppContext {
  workerId: string;
  /** The worker's thread pool for CPU-heavy tools. */
  pool?: ToolPool;
}

export const APPS: Record<string, { title: string; register: (server: McpServer, context: AppContext) => void }> = {
  demo: { title: 'mcp-cluster demo', register: registerDemoApp },
  conformance: { title: 'mcp-cluster conformance fixtures', register: (server) => registerConformanceApp(server) },
};
