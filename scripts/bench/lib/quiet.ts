// This machine is shared (other jobs may be compiling or testing): measure how busy the CPUs are
// before a scenario, wait a bounded while for them to calm down, and record what was seen.

import { readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';

function cpuTimes(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  const total = fields.reduce((sum, value) => sum + value, 0);
  return { busy: total - idle, total };
}

/** Fraction (0..1) of all CPUs busy over `ms`. */
export async function cpuBusy(ms = 1000): Promise<number> {
  const before = cpuTimes();
  await delay(ms);
  const after = cpuTimes();
  const total = after.total - before.total;
  return total > 0 ? (after.busy - before.busy) / total : 0;
}

/** Waits (at most `maxWaitMs`) until the machine is below `threshold` busy; returns the last reading. */
export async function waitForQuiet(threshold = 0.15, maxWaitMs = 45_000, log?: (line: string) => void): Promise<number> {
  const started = Date.now();
  let busy = await cpuBusy();
  let told = false;
  while (busy > threshold && Date.now() - started < maxWaitMs) {
    if (!told && log) {
      log(`   (machine ${Math.round(busy * 100)}% busy before the scenario: waiting up to ${Math.round(maxWaitMs / 1000)} s for it to calm down)`);
      told = true;
    }
    busy = await cpuBusy(2000);
  }
  return busy;
}

/** The soft limit on open files of this process (Linux /proc). */
export function openFilesLimit(): number {
  const match = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  if (!match) return 1024;
  return match[1] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(match[1]);
}
