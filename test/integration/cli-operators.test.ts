import { spawn } from 'node:child_process';
import path from 'node:path';
import { devServerAddress } from '../helpers/devServer';
import { startStack, type Stack } from '../helpers/stack';
import { defaultPool } from '../../simulator/pool';
import type { PoolCapacity } from '../../client/apiSchemas';
import type { BindingView } from '../../workflows/types';

// The operator commands as a user runs them (`npx bindflow party …`, `npx bindflow pool`), against the run's
// dev server and a whole stack; the pool as the CLI shows it and as GET /v1/pool answers it.

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

const A = '+8613833330001';
const B = '+8613833330002';
const C = '+8613833330003';

describe('operator commands: party set|remove, pool', () => {
  let s: Stack;
  let env: NodeJS.ProcessEnv;
  const orderId = `ops-${Date.now().toString(36)}`;
  beforeAll(async () => {
    s = await startStack({ prefix: 'cli-ops' });
    env = {
      TEMPORAL_ADDRESS: devServerAddress(),
      TEMPORAL_TASK_QUEUE: s.taskQueue,
      PRIVATENUMBER_BASE_URL: s.sim.url,
      PRIVATENUMBER_NUMBER_POOL: Object.values(defaultPool()).flat().join(','),
    };
    const put = await s.http('PUT', `/v1/orders/${orderId}/binding`, {
      partyA: A,
      partyB: B,
      areaCode: '0755',
      durationSeconds: 3600,
    });
    expect(put.status).toBe(201);
  }, 60_000);
  afterAll(async () => s?.close());

  test('--help and usage errors', async () => {
    for (const c of ['party', 'pool']) {
      const h = await cli([c, '--help']);
      expect(h.code).toBe(0);
      expect(h.out).toMatch(new RegExp(`Usage: bindflow ${c}`));
    }
    const top = await cli(['--help']);
    expect(top.out).toMatch(/party set <orderId> <label> <number>/);
    expect(top.out).toMatch(/\bpool\b/);
    const wrong = await cli(['party', 'add', orderId, 'c', C], env);
    expect(wrong.code).toBe(2);
    expect(wrong.err).toMatch(/give set <orderId> <label> <number>, or remove <orderId> <label>/);
    const badNumber = await cli(['party', 'set', orderId, 'c', '12345'], env);
    expect(badNumber.code).toBe(1);
    expect(badNumber.err).toMatch(/VALIDATION_FAILED: invalid request: number: must be a \+86 number/);
  }, 60_000);

  test('party set adds a B (masked unless asked), party remove removes it; refusals are named', async () => {
    const set = await cli(['party', 'set', orderId, 'c', C], env);
    expect(set.err).toBe('');
    expect(set.code).toBe(0);
    expect(set.out).toMatch(/B\[c\] \+86138\*\*\*\*0003 {2}⇄ {2}Y \+86/);
    expect(set.out).not.toContain(C);
    const shown = await s.http<BindingView>('GET', `/v1/orders/${orderId}/binding`);
    expect(shown.body.parties.map((p) => p.label)).toEqual(['b', 'c']);

    const json = await cli(['party', 'remove', orderId, 'c', '--json', '--show-numbers'], env);
    expect(json.code).toBe(0);
    const view = JSON.parse(json.out) as BindingView;
    expect(view.parties).toEqual([{ label: 'b', number: B, numberY: expect.stringMatching(/^\+86/) }]);

    const unknown = await cli(['party', 'remove', orderId, 'nobody'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/REQUEST_REJECTED: no party with label "nobody"/);
  }, 90_000);

  test('pool: per area total / bound as X / bound as Y / free, the same as GET /v1/pool', async () => {
    const view = (await s.http<BindingView>('GET', `/v1/orders/${orderId}/binding`)).body;
    // Visibility follows the workflow's search attributes within about a second.
    const deadline = Date.now() + 30_000;
    let api: PoolCapacity;
    for (;;) {
      api = (await s.http<PoolCapacity>('GET', '/v1/pool')).body;
      const area = api.areas.find((a) => a.area === '0755');
      if ((area && area.boundAsX >= 1 && area.boundAsY >= 1) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const shenzhen = api.areas.find((a) => a.area === '0755')!;
    expect(shenzhen.total).toBe(20);
    expect(shenzhen.boundAsX).toBeGreaterThanOrEqual(1);
    expect(shenzhen.boundAsY).toBeGreaterThanOrEqual(1);
    expect(shenzhen.free).toBe(shenzhen.total - shenzhen.boundAsX - shenzhen.boundAsY);
    expect(api.areas.map((a) => a.area)).toEqual(['010', '020', '021', '0755']);
    expect(api.unlisted).toEqual([]);
    expect(view.numberX).toMatch(/^\+86755/);

    const json = await cli(['pool', '--json'], env);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.out)).toEqual(api);
    const table = await cli(['pool'], env);
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/^AREA\s+TOTAL\s+BOUND_AS_X\s+BOUND_AS_Y\s+FREE\s+IN_USE$/m);
    expect(table.out).toMatch(
      new RegExp(`^0755\\s+20\\s+${shenzhen.boundAsX}\\s+${shenzhen.boundAsY}\\s+${shenzhen.free}\\s+\\d+%$`, 'm'),
    );
    // No pool configured: the numbers open bindings hold are all reported as unlisted, with a warning.
    const noPool = await cli(['pool', '--json'], { ...env, PRIVATENUMBER_NUMBER_POOL: '' });
    expect(noPool.code).toBe(0);
    expect(noPool.err).toMatch(/PRIVATENUMBER_NUMBER_POOL is empty/);
    expect(JSON.parse(noPool.out).unlisted).toContain(view.numberX);
  }, 90_000);
});
