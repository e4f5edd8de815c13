import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const DCLINT = path.join(ROOT, 'node_modules', '.bin', 'dclint');

function dclint(file: string) {
  return spawnSync(DCLINT, [file], { encoding: 'utf8', timeout: 60000 });
}

describe('docker-compose.yml', () => {
  test('is valid against the Compose Specification (dclint)', () => {
    const r = dclint(path.join(ROOT, 'docker-compose.yml'));
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/error/i);
    expect(r.status).toBe(0);
  });

  test('dclint really rejects an invalid file (the check above can fail)', () => {
    const bad = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bf-compose-')), 'docker-compose.yml');
    fs.writeFileSync(bad, 'services:\n  api:\n    image: x\n    no_such_key: 1\n');
    expect(dclint(bad).status).not.toBe(0);
  });

  test('declares the services the README promises', () => {
    const text = fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8');
    for (const svc of ['postgresql', 'temporal-admin-tools', 'temporal', 'temporal-ui', 'worker', 'api', 'simulator']) {
      expect(text).toMatch(new RegExp(`^  ${svc}:`, 'm'));
    }
    expect(text).toMatch(/image: postgres:16/);
    expect(text).toMatch(/image: temporalio\/server:1\.30\./);
  });
});
