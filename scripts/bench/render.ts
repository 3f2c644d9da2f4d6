// Redraws bench/chart.svg from bench/results.json (after editing the chart code, without
// re-running the bench):  npx tsx scripts/bench/render.ts [results.json] [chart.svg]

import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderChart } from './lib/chart.ts';

const input = process.argv[2] ?? fileURLToPath(new URL('../../bench/results.json', import.meta.url));
const output = process.argv[3] ?? input.replace(/results\.json$/, 'chart.svg');
writeFileSync(output, renderChart(JSON.parse(readFileSync(input, 'utf8'))));
process.stdout.write(`wrote ${output}\n`);
