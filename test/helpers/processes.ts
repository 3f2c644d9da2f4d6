// Process checks for tests that kill, restart and wait for real processes.

import { existsSync, readFileSync } from 'node:fs';

/** Alive and not a zombie waiting to be reaped (a daemonized process is reaped by init, eventually). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return true;
  const text = readFileSync(stat, 'utf8');
  return text.slice(text.lastIndexOf(')') + 2, text.lastIndexOf(')') + 3) !== 'Z';
}
