import fs from 'node:fs';

/** A PEM given inline (it contains `-----BEGIN`) or as a path to a file holding it. */
export function readPem(value: string): Buffer {
  return Buffer.from(value.includes('-----BEGIN') ? value : fs.readFileSync(value, 'utf8'));
}
