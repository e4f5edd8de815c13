import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../../lib/binaries';

// `bindflow/client` imported the way a user's project does: a project of its own that depends on bindflow
// (`npm install ../bindflow` links it into node_modules), requiring it from CommonJS, importing it from an ES
// module, and type-checking TypeScript against the published declarations with Node16 module resolution.
// The build (`npm run build`, run by `npm ci`) is redone first, so the test sees the current sources.

const TSC = path.join(PROJECT_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

function run(cmd: string, args: string[], cwd: string) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 180_000 });
  return { code: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

describe('the package export bindflow/client', () => {
  let user: string;
  beforeAll(() => {
    const build = run(process.execPath, [TSC, '-p', 'tsconfig.client.json'], PROJECT_ROOT);
    if (build.code !== 0) throw new Error(`npm run build failed:\n${build.out}`);
    user = fs.mkdtempSync(path.join(os.tmpdir(), 'bf-user-project-'));
    fs.writeFileSync(
      path.join(user, 'package.json'),
      JSON.stringify({ name: 'a-users-backend', private: true, dependencies: { bindflow: `file:${PROJECT_ROOT}` } }),
    );
    fs.mkdirSync(path.join(user, 'node_modules'));
    fs.symlinkSync(PROJECT_ROOT, path.join(user, 'node_modules', 'bindflow'), 'dir');
  }, 200_000);
  afterAll(() => {
    if (user) fs.rmSync(user, { recursive: true, force: true });
  });

  test('require() from CommonJS: the client, its errors and helpers', () => {
    fs.writeFileSync(
      path.join(user, 'main.cjs'),
      `const { BindflowClient, BindflowError, areaOfNumber, poolCapacity } = require('bindflow/client');
const e = new BindflowError('CONFLICT', 'taken', { state: 'bound' });
console.log(JSON.stringify({
  client: typeof BindflowClient, status: e.status, envelope: e.toJSON(), area: areaOfNumber('+8675528000001'),
  free: poolCapacity(['+8675528000001', '+8675528000002'], [{ numberX: '+8675528000001', numbersY: [] }]).free,
}));`,
    );
    const r = run(process.execPath, ['main.cjs'], user);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual({
      client: 'function',
      status: 409,
      envelope: { error: { code: 'CONFLICT', message: 'taken', details: { state: 'bound' } } },
      area: '0755',
      free: 1,
    });
  });

  test('import from an ES module', () => {
    fs.writeFileSync(
      path.join(user, 'main.mjs'),
      `import { BindflowClient, BindflowError } from 'bindflow/client';
console.log(typeof BindflowClient, new BindflowError('WORKFLOW_UNHEALTHY', 'x').status);`,
    );
    const r = run(process.execPath, ['main.mjs'], user);
    expect(r.code).toBe(0);
    expect(r.out.trim()).toBe('function 503');
  });

  test('TypeScript type-checks against the declarations; misuse is a type error', () => {
    fs.writeFileSync(
      path.join(user, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: 'node16',
          moduleResolution: 'node16',
          target: 'es2022',
          noEmit: true,
          skipLibCheck: true,
          types: [],
        },
        files: ['backend.ts'],
      }),
    );
    const backend = `import { Client } from '@temporalio/client';
import { BindflowClient, BindflowError, type BindingView, type BindflowErrorCode } from 'bindflow/client';

export async function bindOrder(temporal: Client, orderId: string): Promise<string | null> {
  const bindflow = new BindflowClient({ client: temporal, taskQueue: 'bindflow' });
  try {
    const { status, binding } = await bindflow.bind({
      orderId, partyA: '+8613800000001', parties: [{ label: 'b', number: '+8613800000002' }],
      areaCode: '0755', durationSeconds: 3600,
    });
    const view: BindingView = binding;
    return status === 'pending' ? null : view.numberX;
  } catch (err) {
    if (err instanceof BindflowError) { const code: BindflowErrorCode = err.code; console.log(code, err.status); }
    throw err;
  }
}
`;
    fs.writeFileSync(path.join(user, 'backend.ts'), backend);
    // @temporalio/client is bindflow's dependency; a user's project has its own, here the same one.
    fs.symlinkSync(
      path.join(PROJECT_ROOT, 'node_modules', '@temporalio'),
      path.join(user, 'node_modules', '@temporalio'),
      'dir',
    );
    const ok = run(process.execPath, [TSC, '-p', 'tsconfig.json'], user);
    expect(ok.out).toBe('');
    expect(ok.code).toBe(0);
    // A wrong call is caught by the declarations (not `any`).
    fs.writeFileSync(path.join(user, 'backend.ts'), backend.replace('durationSeconds: 3600', "durationSeconds: '1h'"));
    const bad = run(process.execPath, [TSC, '-p', 'tsconfig.json'], user);
    expect(bad.code).not.toBe(0);
    expect(bad.out).toMatch(/backend\.ts\(9,\d+\): error TS2322: Type 'string' is not assignable to type 'number'/);
  }, 120_000);

  test('only the export is public: deep imports are refused', () => {
    fs.writeFileSync(path.join(user, 'deep.cjs'), `require('bindflow/client/library');`);
    const r = run(process.execPath, ['deep.cjs'], user);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/ERR_PACKAGE_PATH_NOT_EXPORTED/);
  });
});
