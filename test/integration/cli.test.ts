import { spawn } from 'node:child_process';
import path from 'node:path';
import { devServerAddress } from '../helpers/devServer';
import { startStack, type Stack } from '../helpers/stack';

// `npx bindflow …` as a user runs it: a real process against the run's dev server and a stack.

const BIN = path.resolve(__dirname, '../../bin/bindflow.js');

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

describe('the bindflow CLI', () => {
  test('every command has --help', async () => {
    const commands = ['dev', 'worker', 'api', 'simulator', 'demo', 'bind', 'show', 'list', 'extend', 'release', 'sim'];
    const results = await Promise.all(commands.map((c) => cli([c, '--help'])));
    results.forEach((r, i) => {
      expect({ command: commands[i], code: r.code }).toEqual({ command: commands[i], code: 0 });
      expect(r.out).toMatch(/Usage: bindflow/);
    });
    const top = await cli(['--help']);
    for (const c of commands) expect(top.out).toContain(c);
  }, 120_000);

  test('usage errors name the problem and exit 2', async () => {
    const r = await cli(['bind', 'o-1', '--a', '+8613800000001']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--b is required/);
    const d = await cli(['extend', 'o-1', 'soon']);
    expect(d.code).toBe(2);
    expect(d.err).toMatch(/not a duration/);
    const u = await cli(['frobnicate']);
    expect(u.code).toBe(2);
  }, 60_000);

  describe('order commands against a running stack', () => {
    let s: Stack;
    let env: NodeJS.ProcessEnv;
    beforeAll(async () => {
      s = await startStack({ prefix: 'cli' });
      env = {
        TEMPORAL_ADDRESS: devServerAddress(),
        TEMPORAL_TASK_QUEUE: s.taskQueue,
        PRIVATENUMBER_BASE_URL: s.sim.url,
      };
    });
    afterAll(async () => s?.close());

    test('bind, show, sim call, list, extend, release; numbers masked unless asked', async () => {
      const bind = await cli(
        ['bind', 'cli-1', '--a', '+8613822220001', '--b', '+8613822220002', '--area', '0755', '--duration', '1h'],
        env,
      );
      expect(bind.err).toBe('');
      expect(bind.code).toBe(0);
      expect(bind.out).toMatch(/^created: order cli-1/);
      expect(bind.out).toContain('+86138****0001');
      expect(bind.out).not.toContain('+8613822220001');

      const shown = await cli(['show', 'cli-1', '--json', '--show-numbers'], env);
      const view = JSON.parse(shown.out);
      expect(view).toMatchObject({ orderId: 'cli-1', state: 'bound', partyA: '+8613822220001' });

      const call = await cli(['sim', 'call', '--from', '+8613822220002', '--to', view.numberX, '--talk', '12'], env);
      expect(call.code).toBe(0);
      expect(call.out).toMatch(/stateCode 0; connected to \+86138\*\*\*\*0001/);

      const simList = await cli(['sim', 'bindings'], env);
      expect(simList.out).toContain(view.numberX);
      expect(simList.out).not.toContain('+8613822220001');

      const listed = await cli(['list', '--state', 'bound', '--json'], env);
      expect(JSON.parse(listed.out).bindings.map((b: { orderId: string }) => b.orderId)).toContain('cli-1');

      const ext = await cli(['extend', 'cli-1', '30m', '--json'], env);
      expect(Date.parse(JSON.parse(ext.out).expiresAt) - Date.parse(view.expiresAt)).toBe(1800_000);

      const rel = await cli(['release', 'cli-1'], env);
      expect(rel.code).toBe(0);
      expect(rel.out).toMatch(/state\s+released/);
      expect(s.sim.bindings().filter((b) => b.numA === '+8613822220001')).toHaveLength(0);

      const missing = await cli(['show', 'no-such-order'], env);
      expect(missing.code).toBe(1);
      expect(missing.err).toMatch(/NOT_FOUND/);
    }, 120_000);
  });
});
