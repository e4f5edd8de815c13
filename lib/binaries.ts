import fs from 'node:fs';
import path from 'node:path';

export const PROJECT_ROOT = path.resolve(__dirname, '..');
export const STATE_DIR = path.join(PROJECT_ROOT, '.bindflow');

export interface TemporalBinaries {
  cli: string;
  testServer: string;
  source: string;
  version: string;
}

/** The binaries `npm ci` provisioned (scripts/provision-temporal.js writes the manifest). */
export function temporalBinaries(): TemporalBinaries {
  const manifest = path.join(STATE_DIR, 'temporal.json');
  let parsed: TemporalBinaries;
  try {
    parsed = JSON.parse(fs.readFileSync(manifest, 'utf8')) as TemporalBinaries;
  } catch {
    throw new Error(
      `Temporal is not provisioned (${manifest} is missing): run \`npm ci\` (or \`node scripts/provision-temporal.js\`).`,
    );
  }
  for (const file of [parsed.cli, parsed.testServer]) {
    if (!fs.existsSync(file)) {
      throw new Error(`Provisioned Temporal binary ${file} is gone: run \`node scripts/provision-temporal.js\` again.`);
    }
  }
  return parsed;
}
