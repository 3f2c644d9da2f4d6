// The optional configuration file (`--config path.json`): one JSON object whose keys are the
// flag names `--help` lists, without the dashes, e.g.
//   { "port": 8080, "workers": 4, "redis-url": "redis://10.0.0.5:6379", "replay": true,
//     "allowed-hosts": ["mcp.example.com"] }
// Its values are checked by the same schema as flags and environment variables, which win over
// it (config.ts); here only the shape: known keys, and values a flag could have had.

import { readFileSync } from 'node:fs';

export class ConfigFileError extends Error {}

export type FileValue = string | number | boolean;

/** Reads `path` and returns its values by flag name. Throws a one-line ConfigFileError. */
export function readConfigFile(path: string, flags: ReadonlySet<string>): Record<string, FileValue> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigFileError(`cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : ((err as Error).message)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigFileError(`${path} is not valid JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigFileError(`${path} must hold a JSON object of options`);
  }
  const values: Record<string, FileValue> = {};
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (!flags.has(key)) {
      throw new ConfigFileError(`unknown option "${key}" in ${path} (keys are the flag names of --help, without the dashes)`);
    }
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      values[key] = value;
    } else if (Array.isArray(value) && value.every((item) => typeof item === 'string')) {
      // Lists (allowed-hosts, allowed-origins): what the flag spells with commas.
      values[key] = value.join(',');
    } else {
      throw new ConfigFileError(`"${key}" in ${path}: expected a string, a number, a boolean or a list of strings`);
    }
  }
  return values;
}
