// The report as one SVG, drawn by hand (no dependencies): a panel of horizontal bars per
// scenario, mcp-cluster in colour, peers in grey, "not available" spelled out.

import type { Cell, ScenarioResult } from './report.ts';

interface Bar {
  value: number | null;
  color: string;
  /** Legend text for this series (shown once per panel). */
  series?: string;
}

interface Item {
  label: string;
  bars: Bar[];
  note?: string;
}

interface Panel {
  title: string;
  unit: string;
  log?: boolean;
  items: Item[];
}

const WIDTH = 980;
const LABEL_WIDTH = 380;
const PLOT_WIDTH = WIDTH - LABEL_WIDTH - 90;
const BAR_HEIGHT = 13;
const BAR_GAP = 2;
const ITEM_GAP = 7;
const OURS = '#0f766e';
const OURS_LIGHT = '#5eead4';
const PEER = '#6b7280';
const PEER_LIGHT = '#d1d5db';

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function formatNumber(value: number): string {
  if (value >= 10_000) return `${(value / 1000).toFixed(1)}k`;
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function isOurs(label: string): boolean {
  return label.includes('mcp-cluster');
}

function panelHeight(panel: Panel): number {
  const items = panel.items.reduce((sum, item) => sum + Math.max(1, item.bars.length) * (BAR_HEIGHT + BAR_GAP) + ITEM_GAP, 0);
  return 46 + items + 36;
}

function drawPanel(panel: Panel, top: number): string {
  const values = panel.items.flatMap((item) => item.bars.map((bar) => bar.value)).filter((v): v is number => v !== null && Number.isFinite(v) && v > 0);
  const max = values.length ? Math.max(...values) : 1;
  const min = values.length ? Math.min(...values) : 1;
  const logMin = Math.pow(10, Math.floor(Math.log10(Math.max(min, 1e-3))));
  const logMax = Math.pow(10, Math.ceil(Math.log10(max)));
  const scale = (v: number) => {
    if (panel.log) return ((Math.log10(Math.max(v, logMin)) - Math.log10(logMin)) / (Math.log10(logMax) - Math.log10(logMin))) * PLOT_WIDTH;
    return (v / (max * 1.08)) * PLOT_WIDTH;
  };
  const out: string[] = [];
  out.push(`<text x="16" y="${top + 20}" class="title">${escape(panel.title)}</text>`);
  const legend = new Map<string, string>();
  for (const item of panel.items) for (const bar of item.bars) if (bar.series && !legend.has(bar.series)) legend.set(bar.series, bar.color);
  let lx = LABEL_WIDTH;
  for (const [series, color] of legend) {
    out.push(`<rect x="${lx}" y="${top + 28}" width="10" height="10" fill="${color}"/><text x="${lx + 14}" y="${top + 37}" class="small">${escape(series)}</text>`);
    lx += 24 + series.length * 6.2;
  }
  let y = top + 46;
  const plotTop = y;
  for (const item of panel.items) {
    const height = Math.max(1, item.bars.length) * (BAR_HEIGHT + BAR_GAP);
    out.push(`<text x="${LABEL_WIDTH - 8}" y="${y + height / 2 + 4}" class="label" text-anchor="end">${escape(item.label)}</text>`);
    item.bars.forEach((bar, index) => {
      const by = y + index * (BAR_HEIGHT + BAR_GAP);
      if (bar.value === null || !Number.isFinite(bar.value)) {
        out.push(`<text x="${LABEL_WIDTH + 4}" y="${by + BAR_HEIGHT - 3}" class="na">${escape(item.note ?? 'not available')}</text>`);
        return;
      }
      const w = Math.max(1, scale(bar.value));
      out.push(`<rect x="${LABEL_WIDTH}" y="${by}" width="${w.toFixed(1)}" height="${BAR_HEIGHT}" fill="${bar.color}"/>`);
      out.push(`<text x="${(LABEL_WIDTH + w + 4).toFixed(1)}" y="${by + BAR_HEIGHT - 3}" class="small">${formatNumber(bar.value)}</text>`);
    });
    y += height + ITEM_GAP;
  }
  // axis
  out.push(`<line x1="${LABEL_WIDTH}" y1="${plotTop - 2}" x2="${LABEL_WIDTH}" y2="${y}" stroke="#9ca3af"/>`);
  if (panel.log) {
    for (let tick = logMin; tick <= logMax * 1.0001; tick *= 10) {
      const x = LABEL_WIDTH + scale(tick);
      out.push(`<line x1="${x.toFixed(1)}" y1="${plotTop - 2}" x2="${x.toFixed(1)}" y2="${y}" stroke="#e5e7eb"/>`);
      out.push(`<text x="${x.toFixed(1)}" y="${y + 14}" class="small" text-anchor="middle">${formatNumber(tick)}</text>`);
    }
  }
  out.push(`<text x="${LABEL_WIDTH + PLOT_WIDTH}" y="${y + 28}" class="small" text-anchor="end">${escape(panel.unit)}${panel.log ? ' (log scale)' : ''}</text>`);
  return out.join('\n');
}

function num(cell: Cell | undefined): number | null {
  return typeof cell === 'number' && Number.isFinite(cell) ? cell : null;
}

function panels(results: ScenarioResult[]): Panel[] {
  const out: Panel[] = [];
  const byId = new Map(results.map((r) => [r.id, r]));
  const tools = byId.get('tools-call');
  if (tools) {
    out.push({
      title: '1. tools/call echo throughput, 50 connections (higher is better)',
      unit: 'requests/s',
      items: tools.rows.map((row) => ({
        label: row.system,
        bars: [{ value: num(row.cells['req/s']), color: isOurs(row.system) ? OURS : PEER }],
        note: 'not available yet',
      })),
    });
  }
  const notify = byId.get('notify-latency');
  if (notify) {
    out.push({
      title: '2. notify latency through Redis, p50 and p99 (lower is better)',
      unit: 'ms',
      log: true,
      items: notify.rows.map((row) => ({
        label: row.system.replace(' (Redis broker)', '').replace(' + redis-adapter', '+adapter'),
        bars: [
          { value: num(row.cells['p50 ms']), color: isOurs(row.system) ? OURS_LIGHT : PEER_LIGHT, series: 'p50' },
          { value: num(row.cells['p99 ms']), color: isOurs(row.system) ? OURS : PEER, series: 'p99' },
        ],
      })),
    });
  }
  const memory = byId.get('idle-memory');
  if (memory) {
    out.push({
      title: '3. server memory per idle session holding a GET stream (lower is better)',
      unit: 'KiB per session',
      items: memory.rows.map((row) => ({ label: row.system, bars: [{ value: num(row.cells['KiB/session']), color: isOurs(row.system) ? OURS : PEER }] })),
    });
  }
  const broadcast = byId.get('broadcast');
  if (broadcast) {
    out.push({
      title: `4. one message to every receiver: time until the last has it (lower is better)`,
      unit: 'ms (median of rounds)',
      items: broadcast.rows.map((row) => ({
        label: `${row.system.replace(' (1 process)', '').replace(' + redis-adapter', '').replace('createMcpHandler', 'handler').replace(' 2 workers (Redis)', '').replace(' 2 workers, 2026 subscriptions/listen', ' 2026 listen').replace(', subscriptions/listen', ' 2026 listen')}${typeof row.cells.mode === 'string' && row.cells.mode !== 'not available' ? `: ${row.cells.mode.replace(/ \(.*\)$/, '')}` : ''}`.slice(0, 56),
        bars: [{ value: num(row.cells['last ms (median)']), color: isOurs(row.system) ? OURS : PEER }],
        note: 'not available yet',
      })),
    });
  }
  const resume = byId.get('resume');
  if (resume) {
    out.push({
      title: '5. resume after missed events: GET with Last-Event-ID until caught up (lower is better)',
      unit: 'ms (median of rounds)',
      items: resume.rows.map((row) => ({ label: row.system, bars: [{ value: num(row.cells['caught up ms (median)']), color: isOurs(row.system) ? OURS : PEER }] })),
    });
  }
  return out;
}

export function renderChart(report: { machine: { cores: number; memoryGiB: number; node: string; cpu: string }; generatedAt: string; results: ScenarioResult[] }): string {
  const list = panels(report.results);
  let y = 40;
  const body: string[] = [];
  for (const panel of list) {
    body.push(drawPanel(panel, y));
    y += panelHeight(panel) + 10;
  }
  const m = report.machine;
  const header = `mcp-cluster vs peers — ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB, Node ${m.node}, ${report.generatedAt.slice(0, 16).replace('T', ' ')} UTC`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${y}" viewBox="0 0 ${WIDTH} ${y}" font-family="system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif">`,
    '<style>.title{font-size:14px;font-weight:600;fill:#111827}.label{font-size:11.5px;fill:#1f2937}.small{font-size:10.5px;fill:#374151}.na{font-size:11px;fill:#b45309;font-style:italic}</style>',
    `<rect width="${WIDTH}" height="${y}" fill="#ffffff"/>`,
    `<text x="16" y="24" class="title">${escape(header)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
