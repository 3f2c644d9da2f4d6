// Messages between the primary and its workers about the workers' lives (not broker traffic).
// Tagged so that other senders on the same channel (pm2, user code) are never mistaken for them.

export type LifecycleMessage =
  | { mcpClusterLifecycle: 1; type: 'listening'; url: string; backend: string }
  | { mcpClusterLifecycle: 1; type: 'shutdown' };

export function isLifecycleMessage(value: unknown): value is LifecycleMessage {
  return typeof value === 'object' && value !== null && (value as { mcpClusterLifecycle?: unknown }).mcpClusterLifecycle === 1;
}

export const listening = (url: string, backend: string): LifecycleMessage => ({ mcpClusterLifecycle: 1, type: 'listening', url, backend });
export const shutdown = (): LifecycleMessage => ({ mcpClusterLifecycle: 1, type: 'shutdown' });
