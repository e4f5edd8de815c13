import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { temporalBinaries } from '../../lib/binaries';

const SCRIPT = path.resolve(__dirname, '../../scripts/provision-temporal.js');

/** A throwaway project root holding only the provisioning script. */
function sandbox(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bf-provision-'));
  fs.mkdirSync(path.join(root, 'scripts'));
  fs.copyFileSync(SCRIPT, path.join(root, 'scripts', 'provision-temporal.js'));
  return root;
}

function run(root: string, env: Record<string, string>) {
  return spawnSync(process.execPath, [path.join(root, 'scripts', 'provision-temporal.js')], {
    encoding: 'utf8',
    env: { HOME: os.tmpdir(), TMPDIR: root, ...env },
    timeout: 60000,
  });
}

describe('Temporal provisioning (npm ci postinstall)', () => {
  test('uses TEMPORAL_CLI_PATH / TEMPORAL_TEST_SERVER_PATH first and records them', () => {
    const { cli, testServer } = temporalBinaries();
    const root = sandbox();
    const r = run(root, { PATH: '/nonexistent', TEMPORAL_CLI_PATH: cli, TEMPORAL_TEST_SERVER_PATH: testServer });
    expect(r.status).toBe(0);
    const manifest = JSON.parse(fs.readFileSync(path.join(root, '.bindflow', 'temporal.json'), 'utf8'));
    expect(manifest).toMatchObject({ cli, testServer, source: 'TEMPORAL_CLI_PATH' });
    expect(manifest.version).toMatch(/temporal version/);
    // Second run is a quick no-op.
    const again = run(root, { PATH: '/nonexistent', TEMPORAL_CLI_PATH: cli, TEMPORAL_TEST_SERVER_PATH: testServer });
    expect(again.stdout).toMatch(/already provisioned/);
  });

  test('with no binary, no Python and no download, explains every way it tried in one paragraph', () => {
    const root = sandbox();
    const r = run(root, { PATH: '/nonexistent' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/Could not provision the Temporal server binaries/);
    expect(r.stderr).toMatch(/TEMPORAL_CLI_PATH: not set/);
    expect(r.stderr).toMatch(/`temporal` on PATH: not found/);
    expect(r.stderr).toMatch(/no python3 on PATH/);
    expect(r.stderr).toMatch(/@temporalio\/testing's own download/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});
