import { spawn, spawnSync, ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, isPortFree } from '../../lib/ports';

// `npm start` for real: `bindflow dev` on free ports, the Web UI, the demo through it, the CLI,
// Ctrl-C stopping everything, and a restart that keeps every workflow.

const BIN = path.resolve(__dirname, '../../bin/bindflow.js');

async function ports() {
  for (;;) {
    const temporal = await freePort();
    if (temporal + 1000 < 65536 && (await isPortFree(temporal + 1000))) {
      return { temporal, ui: temporal + 1000, api: await freePort(), sim: await freePort(), metrics: await freePort() };
    }
  }
}

function startDev(env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string; up: Promise<void> } {
  const child = spawn(process.execPath, [BIN, 'dev'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const up = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`dev did not come up:\n${out.slice(-3000)}`)), 120_000);
    const check = () => {
      if (out.includes('bindflow dev is up')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`dev exited (${code}) before coming up:\n${out.slice(-3000)}`));
    });
  });
  return { child, output: () => out, up };
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
    child.kill('SIGINT');
  });
}

describe('npm start (bindflow dev)', () => {
  test('brings up the stack, serves the Web UI, runs the demo, stops everything on Ctrl-C, keeps workflows across a restart', async () => {
    const p = await ports();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bf-dev-'));
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TEMPORAL_ADDRESS: `127.0.0.1:${p.temporal}`,
      BINDFLOW_PORT: String(p.api),
      BINDFLOW_SIMULATOR_PORT: String(p.sim),
      BINDFLOW_METRICS_PORT: String(p.metrics),
      BINDFLOW_DATA_DIR: dataDir,
      BINDFLOW_LOG_LEVEL: 'warn',
    };
    const dev = startDev(env);
    let orderId: string;
    try {
      await dev.up;
      for (const url of [
        `http://127.0.0.1:${p.ui}`,
        `http://127.0.0.1:${p.api}/readyz`,
        `http://127.0.0.1:${p.sim}/_sim/health`,
        `http://127.0.0.1:${p.metrics}/metrics`,
      ]) {
        expect(dev.output()).toContain(url.replace(/\/(readyz|_sim\/health|metrics)$/, ''));
        const res = await fetch(url);
        expect(res.status).toBe(200);
      }
      expect(await (await fetch(`http://127.0.0.1:${p.ui}`)).text()).toMatch(/<html/i);

      const demo = spawnSync(process.execPath, [BIN, 'demo', '--json'], { env, encoding: 'utf8', timeout: 120_000 });
      expect(demo.stderr).toBe('');
      expect(demo.status).toBe(0);
      const result = JSON.parse(demo.stdout);
      expect(result).toMatchObject({ providerBindingsLeft: 0, final: { state: 'released' } });
      orderId = result.orderId;

      const show = spawnSync(process.execPath, [BIN, 'show', orderId, '--json'], {
        env,
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(show.status).toBe(0);
      expect(JSON.parse(show.stdout)).toMatchObject({ orderId, state: 'released' });
    } finally {
      expect(await stop(dev.child)).toBe(0);
    }
    // Nothing left behind: every port is free again and no server still uses the data directory.
    for (const port of Object.values(p)) expect(await isPortFree(port)).toBe(true);
    expect(spawnSync('pgrep', ['-f', dataDir]).status).toBe(1);

    // A restart on the same data directory still has the order.
    const again = startDev(env);
    try {
      await again.up;
      const show = spawnSync(process.execPath, [BIN, 'show', orderId!, '--json'], {
        env,
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(show.status).toBe(0);
      expect(JSON.parse(show.stdout)).toMatchObject({ orderId: orderId!, state: 'released' });
    } finally {
      expect(await stop(again.child)).toBe(0);
    }
  }, 300_000);
});
