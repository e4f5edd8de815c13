import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import { freePort } from '../../lib/ports';
import { createLogger } from '../../lib/log';
import { startSimulator, type Simulator } from '../../simulator';
import { connectDevServer, devServerAddress, uniqueTaskQueue } from '../helpers/devServer';

// Every `bindflow worker` creates or updates the reconciliation Schedule at start: standalone worker
// processes (as `npx bindflow worker` runs them) on the shared dev server, each test on a schedule id
// of its own (BINDFLOW_RECONCILE_SCHEDULE_ID), so the default `bindflow-reconcile` is not disturbed.

let client: Client;
let close: () => Promise<void>;
let sim: Simulator;
const children: ChildProcess[] = [];
const scheduleIds: string[] = [];
const taskQueue = uniqueTaskQueue('worker-schedule');
const ROOT = path.join(__dirname, '..', '..');

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
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  for (const id of scheduleIds)
    await client?.schedule
      .getHandle(id)
      .delete()
      .catch(() => undefined);
  await sim?.close();
  await close?.();
});

function newScheduleId(): string {
  const id = `bf-reconcile-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  scheduleIds.push(id);
  return id;
}

interface RunningWorker {
  logs: () => string;
  waitForLog: (text: string, timeoutMs?: number) => Promise<void>;
  stop: () => Promise<number | null>;
}

async function startWorker(env: Record<string, string>): Promise<RunningWorker> {
  const child = spawn(
    process.execPath,
    ['-r', 'tsx/cjs', '-e', "require('./worker/run').runWorker().catch((e) => { console.error(e); process.exit(1); })"],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: devServerAddress(),
        TEMPORAL_TASK_QUEUE: taskQueue,
        PRIVATENUMBER_BASE_URL: sim.url,
        BINDFLOW_METRICS_PORT: String(await freePort()),
        BINDFLOW_PAYLOAD_KEY: '',
        BINDFLOW_LOG_LEVEL: 'info',
        ...env,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return {
    logs: () => stderr,
    waitForLog: (text, timeoutMs = 90_000) =>
      new Promise((resolve, reject) => {
        const started = Date.now();
        const check = () => {
          if (stderr.includes(text)) return resolve();
          if (child.exitCode !== null) return reject(new Error(`worker exited (${child.exitCode}):\n${stderr}`));
          if (Date.now() - started > timeoutMs) return reject(new Error(`no "${text}" in worker logs:\n${stderr}`));
          setTimeout(check, 100);
        };
        check();
      }),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill('SIGTERM');
      }),
  };
}

async function describeSchedule(id: string) {
  const d = await client.schedule.getHandle(id).describe();
  if (d.action.type !== 'startWorkflow') throw new Error(`unexpected action ${d.action.type}`);
  return {
    every: d.spec.intervals?.map((i) => i.every),
    workflowType: d.action.workflowType,
    taskQueue: d.action.taskQueue,
    args: d.action.args,
  };
}

const POOL_1 = ['+8675528000001', '+8675528000002', '+8613900000001'];
const POOL_2 = ['+8675528000003', '+8621630000001'];

test('a worker creates the schedule; workers starting again (two at once) update it without error', async () => {
  const scheduleId = newScheduleId();
  const first = await startWorker({
    BINDFLOW_RECONCILE_SCHEDULE_ID: scheduleId,
    PRIVATENUMBER_NUMBER_POOL: POOL_1.join(','),
    BINDFLOW_RECONCILE_INTERVAL: '1h',
  });
  await first.waitForLog('reconciliation schedule created');
  expect(await describeSchedule(scheduleId)).toEqual({
    every: [3_600_000],
    workflowType: 'reconcileBindings',
    taskQueue,
    args: [{ numberPool: POOL_1 }],
  });
  expect(await first.stop()).toBe(0);

  // A new deployment: two workers at once, with another interval and pool.
  const env = {
    BINDFLOW_RECONCILE_SCHEDULE_ID: scheduleId,
    PRIVATENUMBER_NUMBER_POOL: POOL_2.join(','),
    BINDFLOW_RECONCILE_INTERVAL: '2h',
  };
  const [a, b] = await Promise.all([startWorker(env), startWorker(env)]);
  await Promise.all([a.waitForLog('reconciliation schedule updated'), b.waitForLog('reconciliation schedule updated')]);
  expect(await describeSchedule(scheduleId)).toEqual({
    every: [7_200_000],
    workflowType: 'reconcileBindings',
    taskQueue,
    args: [{ numberPool: POOL_2 }],
  });
  expect(await Promise.all([a.stop(), b.stop()])).toEqual([0, 0]);
  for (const w of [first, a, b]) {
    expect(w.logs()).not.toContain('not created or updated');
    expect(w.logs()).toContain('worker stopped');
  }
}, 240_000);

test('with an empty pool a worker warns and creates no schedule; it runs all the same', async () => {
  const scheduleId = newScheduleId();
  const worker = await startWorker({
    BINDFLOW_RECONCILE_SCHEDULE_ID: scheduleId,
    PRIVATENUMBER_NUMBER_POOL: '',
    BINDFLOW_RECONCILE_INTERVAL: '1m',
  });
  await worker.waitForLog('PRIVATENUMBER_NUMBER_POOL is empty: no reconciliation schedule');
  await worker.waitForLog('worker started');
  await expect(client.schedule.getHandle(scheduleId).describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
  expect(await worker.stop()).toBe(0);
  expect(worker.logs()).not.toContain('reconciliation schedule created');
}, 120_000);
