import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { request } from 'undici';
import { freePort } from '../../lib/ports';
import { startSimulator, type Simulator } from '../../simulator';
import { connectDevServer, devServerAddress, uniqueTaskQueue } from '../helpers/devServer';
import { orderBinding } from '../../workflows';
import * as msg from '../../workflows/messages';
import { createLogger } from '../../lib/log';

// `runWorker` as `npx bindflow worker` runs it: a process with metrics, masked JSON logs, and a
// graceful stop on SIGTERM.

let client: Client;
let close: () => Promise<void>;
let sim: Simulator;
let child: ChildProcess | undefined;
let stderr = '';
const taskQueue = uniqueTaskQueue('worker-proc');

beforeAll(async () => {
  const c = await connectDevServer();
  client = c.client;
  close = async () => {
    await c.nativeConnection.close();
    await c.connection.close();
  };
  sim = await startSimulator({ port: 0, logger: createLogger('sim', {}, () => undefined) });
});

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await sim?.close();
  await close?.();
});

function waitForLog(text: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const check = () => {
      if (stderr.includes(text)) return resolve();
      if (Date.now() - started > timeoutMs) return reject(new Error(`no "${text}" in worker logs:\n${stderr}`));
      setTimeout(check, 100);
    };
    check();
  });
}

test('serves metrics, logs masked JSON, binds, and stops gracefully on SIGTERM', async () => {
  const metricsPort = await freePort();
  const root = path.join(__dirname, '..', '..');
  child = spawn(
    process.execPath,
    ['-r', 'tsx/cjs', '-e', "require('./worker/run').runWorker().catch((e) => { console.error(e); process.exit(1); })"],
    {
      cwd: root,
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: devServerAddress(),
        TEMPORAL_TASK_QUEUE: taskQueue,
        PRIVATENUMBER_BASE_URL: sim.url,
        PRIVATENUMBER_NUMBER_POOL: Object.values(sim.core.opts.pool).flat().join(','),
        BINDFLOW_METRICS_PORT: String(metricsPort),
        BINDFLOW_CALLBACK_SECRET: 'test-secret',
        BINDFLOW_LOG_LEVEL: 'debug',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  await waitForLog('worker started', 60_000);

  const handle = await client.workflow.start(orderBinding, {
    taskQueue,
    workflowId: `binding-proc-${process.pid}`,
    args: [
      {
        orderId: `proc-${process.pid}`,
        partyA: '+8613800000031',
        parties: [{ label: 'b', number: '+8613800000032' }],
        areaCode: '021',
        durationSeconds: 600,
      },
    ],
  });
  const bound = await handle.executeUpdate(msg.awaitBound, { args: [20_000] });
  expect(bound.state).toBe('bound');
  await handle.executeUpdate(msg.release, { args: [{}] });

  const res = await request(`http://127.0.0.1:${metricsPort}/metrics`);
  const text = await res.body.text();
  expect(res.statusCode).toBe(200);
  expect(text).toContain('bindflow_notifications_total');
  expect(text).toMatch(/bindflow_provider_calls_total\{api="bindAx",result="ok"\} 1/);
  expect(text).toMatch(/^temporal_\w+/m); // the SDK runtime's own metrics, proxied

  child.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => child!.once('exit', (c) => resolve(c)));
  expect(code).toBe(0);
  expect(stderr).toContain('worker stopped');
  const lines = stderr.split('\n').filter((l) => l.startsWith('{'));
  expect(lines.length).toBeGreaterThan(2);
  for (const l of lines) expect(() => JSON.parse(l)).not.toThrow();
  expect(stderr).not.toContain('13800000031');
  expect(stderr).not.toContain('13800000032');
  expect(stderr).not.toContain('test-secret');
}, 120_000);
