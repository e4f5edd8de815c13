import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TEMPORAL_SERVER_VERSION, TEMPORAL_UI_SERVER_VERSION } from '../../lib/clusterBinaries';

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

  test('pins the same Temporal server and Web UI as `npm run cluster` builds', () => {
    const text = fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8');
    const tags = (image: string) =>
      [...text.matchAll(new RegExp(`image: temporalio/${image}:(\\S+)`, 'g'))].map((m) => m[1]);
    expect(tags('server')).toEqual([TEMPORAL_SERVER_VERSION]);
    expect(tags('admin-tools')).toEqual([TEMPORAL_SERVER_VERSION, TEMPORAL_SERVER_VERSION]);
    expect(tags('ui')).toEqual([TEMPORAL_UI_SERVER_VERSION]);
    expect(text).toMatch(/NUM_HISTORY_SHARDS: '8'/);
  });

  test('has no simulator defaults outside the simulator profile; two workers with reachable metrics', () => {
    const text = fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8');
    const simulator = text.slice(text.indexOf('\n  simulator:'), text.indexOf('\n  temporal:'));
    const rest = text.replace(simulator, '');
    expect(rest).not.toMatch(/sim-app-(key|secret)|simulator:9080/);
    for (const v of [
      'PRIVATENUMBER_BASE_URL',
      'PRIVATENUMBER_APP_KEY',
      'PRIVATENUMBER_APP_SECRET',
      'BINDFLOW_API_TOKEN',
      'BINDFLOW_PAYLOAD_KEY',
    ])
      expect(rest).toMatch(new RegExp(`\\$\\{${v}:\\?`));
    const worker = text.slice(text.indexOf('\n  worker:'));
    expect(worker).toMatch(/replicas: 2/);
    expect(worker).toMatch(/BINDFLOW_METRICS_HOST: 0\.0\.0\.0/);
    expect(worker).toMatch(/healthcheck:/);
    expect(text.slice(text.indexOf('\n  api:'), text.indexOf('\n  postgresql:'))).toMatch(/healthcheck:/);
    const simEnv = fs.readFileSync(path.join(ROOT, 'compose.simulator.env'), 'utf8');
    expect(simEnv).toMatch(/^PRIVATENUMBER_BASE_URL=http:\/\/simulator:9080$/m);
  });
});
