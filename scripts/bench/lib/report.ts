// What a scenario produces: rows of figures per system, the comparisons the issue sets targets
// for, and notes. Printed as plain-text tables, written to bench/results.json.

export type Cell = number | string | null;

export interface Row {
  system: string;
  cells: Record<string, Cell>;
}

/** A figure the issue sets a target for (or a ratio printed for information: no target). */
export interface Comparison {
  label: string;
  /** null: not available (the feature, or a system, is missing). */
  value: number | null;
  /** 'x' for a ratio. */
  unit: 'x' | 'ms' | 'msg/s' | 'KB' | 's' | 'messages';
  target: string | null;
  met: boolean | null;
  detail?: string;
}

export function formatValue(comparison: Comparison): string {
  if (comparison.value === null) return 'not available';
  const number = formatCell(comparison.value);
  return comparison.unit === 'x' ? `${number}x` : `${number} ${comparison.unit}`;
}

export function verdict(comparison: Comparison): string {
  if (comparison.target === null) return 'info';
  return comparison.met === null ? 'n/a' : comparison.met ? 'MET' : 'MISSED';
}

export interface ScenarioResult {
  id: string;
  title: string;
  columns: string[];
  rows: Row[];
  comparisons: Comparison[];
  notes: string[];
  seconds: number;
  /** Extra structured data for the chart (per-scenario shape). */
  data?: Record<string, unknown>;
}

export function formatCell(value: Cell): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'string') return value;
  if (!Number.isFinite(value)) return '—';
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

export function formatTable(result: ScenarioResult): string {
  const header = ['system', ...result.columns];
  const body = result.rows.map((row) => [row.system, ...result.columns.map((column) => formatCell(row.cells[column] ?? null))]);
  const widths = header.map((title, index) => Math.max(title.length, ...body.map((line) => line[index]!.length)));
  const line = (cells: string[]) => cells.map((cell, index) => (index === 0 ? cell.padEnd(widths[index]!) : cell.padStart(widths[index]!))).join('  ');
  const out = [`== ${result.title} (${result.seconds.toFixed(0)} s)`, line(header), widths.map((width) => '-'.repeat(width)).join('  ')];
  for (const cells of body) out.push(line(cells));
  for (const comparison of result.comparisons) {
    const target = comparison.target === null ? '' : ` (target ${comparison.target})`;
    out.push(`   ${verdict(comparison).padEnd(6)} ${comparison.label}: ${formatValue(comparison)}${target}${comparison.detail ? ` — ${comparison.detail}` : ''}`);
  }
  for (const note of result.notes) out.push(`   note: ${note}`);
  return out.join('\n');
}

export function markdownTable(result: ScenarioResult): string {
  const header = ['system', ...result.columns];
  const out = [`| ${header.join(' | ')} |`, `|${header.map((_, index) => (index === 0 ? '---' : '---:')).join('|')}|`];
  for (const row of result.rows) out.push(`| ${[row.system, ...result.columns.map((column) => formatCell(row.cells[column] ?? null))].join(' | ')} |`);
  return out.join('\n');
}

export function ratioOf(ours: number | null | undefined, peer: number | null | undefined): number | null {
  if (ours === null || ours === undefined || peer === null || peer === undefined) return null;
  if (!Number.isFinite(ours) || !Number.isFinite(peer) || peer === 0) return null;
  return ours / peer;
}
