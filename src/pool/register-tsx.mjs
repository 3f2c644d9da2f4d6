// Preloaded in every pool thread (`execArgv: ['--import', <this file>]`) so task modules can be
// .ts files. Plain .mjs on purpose: it runs before any TypeScript loader exists in the thread.
//
// Why not inherit the parent's `--import tsx`: that registers tsx's CommonJS hook too, and
// piscina tries `require(filename)` before `import()`, so a .ts task module would be compiled to
// CommonJS (no top-level await, a second module instance). With only the ESM hooks, require()
// of a .ts file fails and piscina falls back to import(): task modules load as ESM. It also keeps
// process-wide flags of the parent (--inspect, tsx's CLI preflight) out of the threads.
import { register } from 'tsx/esm/api';

register();
