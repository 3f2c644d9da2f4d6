// The entry pm2 runs (pm2.config.cjs). pm2's fork-mode container loads the script it is given;
// handed `main.ts` directly on Node 20 it looks for ts-node and logs "TypeScript support
// unavailable" on every start (and in every worker), although tsx, registered by the
// interpreter's `--import tsx`, then loads the file fine. An .mjs is imported as is.
//
// node:cluster forks workers with `process.argv[1]`, which under pm2 is pm2's container: point
// the workers at the CLI itself, so they run exactly what `npm start` runs.

import cluster from 'node:cluster';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('./main.ts', import.meta.url));
if (cluster.isPrimary) cluster.setupPrimary({ exec: main });
await import(main);
