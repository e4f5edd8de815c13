// `bindflow simulator`: options, help, validation, and a real start/stop with a custom pool file.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { runSimulatorCli, SIMULATOR_HELP } from '../../simulator/cli';

function io(stop?: Promise<void>) {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t), env: {}, stopSignal: stop },
  };
}

describe('simulator CLI', () => {
  it('documents every option in --help', async () => {
    const h = io();
    expect(await runSimulatorCli(['--help'], h.io)).toBe(0);
    for (const opt of [
      '--port',
      '--host',
      '--app-key',
      '--app-secret',
      '--push-url',
      '--time-scale',
      '--pool',
      '--seed',
      '--auth-failure-limit',
      '--tls',
      '--tls-cert',
      '--tls-key',
      '--help',
    ]) {
      expect(h.out.join('')).toContain(opt);
    }
    expect(h.out.join('')).toBe(SIMULATOR_HELP);
  });

  it('refuses unknown and invalid options, naming them', async () => {
    const unknown = io();
    expect(await runSimulatorCli(['--nope'], unknown.io)).toBe(2);
    expect(unknown.err.join('')).toContain('--nope');
    const bad = io();
    expect(await runSimulatorCli(['--time-scale', '-1', '--push-url', 'not a url'], bad.io)).toBe(2);
    expect(bad.err.join('')).toMatch(/--time-scale/);
    expect(bad.err.join('')).toMatch(/--push-url/);
  });

  it('starts with a pool file and stops on the stop signal', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bindflow-sim-cli-'));
    const poolFile = path.join(dir, 'pool.json');
    writeFileSync(poolFile, JSON.stringify({ '0571': ['+8657188000001', '+8657188000002'] }));
    let stop!: () => void;
    const h = io(new Promise<void>((resolve) => (stop = resolve)));
    const exit = runSimulatorCli(['--port', '0', '--pool', poolFile, '--app-key', 'k1'], h.io);
    try {
      for (let i = 0; i < 100 && !h.out.join('').includes('listening'); i++)
        await new Promise((r) => setTimeout(r, 20));
      const url = /listening on (\S+)/.exec(h.out.join(''))![1];
      const res = await request(`${url}/_sim/numbers`);
      expect(await res.body.json()).toEqual({ pool: { '0571': ['+8657188000001', '+8657188000002'] } });
    } finally {
      stop();
      expect(await exit).toBe(0);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a bad pool file, naming the entry', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bindflow-sim-cli-'));
    const poolFile = path.join(dir, 'pool.json');
    writeFileSync(poolFile, JSON.stringify({ '0571': ['12345'] }));
    const h = io();
    expect(await runSimulatorCli(['--port', '0', '--pool', poolFile], h.io)).toBe(2);
    expect(h.err.join('')).toContain('0571.0');
    rmSync(dir, { recursive: true, force: true });
  });
});
