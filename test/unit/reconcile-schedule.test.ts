import { ScheduleAlreadyRunning, ServiceError, type Client } from '@temporalio/client';
import { ConfigError, loadEnv } from '../../lib/config';
import type { Logger } from '../../lib/log';
import { manageReconcileSchedule, reconcileIntervalSeconds } from '../../worker/schedule';

// What a worker does with the reconciliation Schedule at start, against a fake schedule client: the
// decisions (off, empty pool, create, update), the retries of a conflict, and never a fatal failure.

function grpcError(code: number, details: string): Error {
  return Object.assign(new Error(`${code} ${details}`), { code, details, metadata: {} });
}

function fakeClient(script: { create: (() => void)[]; update: (() => void)[] }) {
  const calls: string[] = [];
  const created: unknown[] = [];
  const updated: unknown[] = [];
  const existing = {
    spec: { intervals: [{ every: 60_000 }] },
    action: { type: 'startWorkflow', workflowType: 'reconcileBindings', taskQueue: 'old', args: [] },
    policies: { overlap: 'SKIP' },
    state: { paused: true, note: 'paused by an operator' },
  };
  const client = {
    schedule: {
      async create(opts: unknown) {
        calls.push('create');
        (script.create.shift() ?? (() => undefined))();
        created.push(opts);
      },
      getHandle: (id: string) => ({
        async update(fn: (prev: typeof existing) => unknown) {
          calls.push(`update ${id}`);
          (script.update.shift() ?? (() => undefined))();
          updated.push(fn(existing));
        },
      }),
    },
  } as unknown as Client;
  return { client, calls, created, updated };
}

function recordingLog() {
  const lines: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
  const at =
    (level: string) =>
    (msg: string, fields?: Record<string, unknown>): void => {
      lines.push({ level, msg, fields });
    };
  const log: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => log };
  return { log, lines };
}

const pool = ['+8675528000001', '+8675528000002'];
const noWait = { sleep: async () => undefined };

describe('BINDFLOW_RECONCILE_INTERVAL', () => {
  test('durations, and 0 / off for "leave the schedule alone"', () => {
    expect(reconcileIntervalSeconds('90s')).toBe(90);
    expect(reconcileIntervalSeconds('1m')).toBe(60);
    expect(reconcileIntervalSeconds('120')).toBe(120);
    expect(reconcileIntervalSeconds('0')).toBeNull();
    expect(reconcileIntervalSeconds('0m')).toBeNull();
    expect(reconcileIntervalSeconds('off')).toBeNull();
  });

  test('the configuration accepts them and rejects anything else, naming the variable', () => {
    for (const v of ['0', 'off', '90s', '1h']) expect(loadEnv({ BINDFLOW_RECONCILE_INTERVAL: v })).toBeDefined();
    expect(loadEnv({}).BINDFLOW_RECONCILE_INTERVAL).toBe('1m');
    for (const v of ['-1', 'never', '1w', '1.5m']) {
      expect(() => loadEnv({ BINDFLOW_RECONCILE_INTERVAL: v })).toThrow(ConfigError);
    }
  });

  test('BINDFLOW_RECONCILE_RATE and BINDFLOW_RECONCILE_SCHEDULE_ID', () => {
    expect(loadEnv({})).toMatchObject({
      BINDFLOW_RECONCILE_RATE: 10,
      BINDFLOW_RECONCILE_SCHEDULE_ID: 'bindflow-reconcile',
    });
    expect(loadEnv({ BINDFLOW_RECONCILE_RATE: '' }).BINDFLOW_RECONCILE_RATE).toBe(10);
    expect(loadEnv({ BINDFLOW_RECONCILE_RATE: '2.5' }).BINDFLOW_RECONCILE_RATE).toBe(2.5);
    for (const v of ['0', '-3', 'fast']) {
      expect(() => loadEnv({ BINDFLOW_RECONCILE_RATE: v })).toThrow(/BINDFLOW_RECONCILE_RATE/);
    }
  });
});

describe('manageReconcileSchedule', () => {
  const base = { taskQueue: 'bf', scheduleId: 'bf-rec', retry: noWait };

  test('creates it with the interval, the pool and the task queue', async () => {
    const fake = fakeClient({ create: [], update: [] });
    const { log, lines } = recordingLog();
    expect(await manageReconcileSchedule(fake.client, { ...base, intervalSeconds: 90, numberPool: pool, log })).toBe(
      'created',
    );
    expect(fake.created).toEqual([
      expect.objectContaining({
        scheduleId: 'bf-rec',
        spec: { intervals: [{ every: '90s' }] },
        action: expect.objectContaining({ taskQueue: 'bf', args: [{ numberPool: pool }] }),
      }),
    ]);
    expect(lines).toEqual([expect.objectContaining({ level: 'info', msg: 'reconciliation schedule created' })]);
  });

  test('updates it in place when it exists, keeping its state (a pause stays)', async () => {
    const fake = fakeClient({
      create: [
        () => {
          throw new ScheduleAlreadyRunning('exists', 'bf-rec');
        },
      ],
      update: [],
    });
    const { log } = recordingLog();
    expect(await manageReconcileSchedule(fake.client, { ...base, intervalSeconds: 300, numberPool: pool, log })).toBe(
      'updated',
    );
    expect(fake.updated).toEqual([
      expect.objectContaining({
        spec: { intervals: [{ every: '300s' }] },
        action: expect.objectContaining({ taskQueue: 'bf' }),
        state: { paused: true, note: 'paused by an operator' },
      }),
    ]);
  });

  test('a conflict with workers starting at once is retried', async () => {
    const exists = () => {
      throw new ScheduleAlreadyRunning('exists', 'bf-rec');
    };
    const conflict = () => {
      throw new ServiceError('Failed to update schedule', { cause: grpcError(9, 'conflict token mismatch') });
    };
    const fake = fakeClient({ create: [exists, exists], update: [conflict] });
    const { log } = recordingLog();
    expect(await manageReconcileSchedule(fake.client, { ...base, intervalSeconds: 60, numberPool: pool, log })).toBe(
      'updated',
    );
    expect(fake.calls).toEqual(['create', 'update bf-rec', 'create', 'update bf-rec']);
  });

  test('no permission: one clear warning, no retry, and no throw (the worker runs on)', async () => {
    const denied = () => {
      throw new ServiceError('Failed to create schedule', { cause: grpcError(7, 'Request unauthorized') });
    };
    const fake = fakeClient({ create: [denied], update: [] });
    const { log, lines } = recordingLog();
    expect(await manageReconcileSchedule(fake.client, { ...base, intervalSeconds: 60, numberPool: pool, log })).toBe(
      'failed',
    );
    expect(fake.calls).toEqual(['create']);
    expect(lines).toHaveLength(1);
    expect(lines[0].level).toBe('warn');
    expect(lines[0].msg).toMatch(/not created or updated.*permission to manage schedules/);
  });

  test('a failure that persists is given up after a few tries, without a throw', async () => {
    const down = () => {
      throw new ServiceError('Failed to create schedule', { cause: grpcError(14, 'unavailable') });
    };
    const fake = fakeClient({ create: Array(10).fill(down), update: [] });
    const { log, lines } = recordingLog();
    expect(await manageReconcileSchedule(fake.client, { ...base, intervalSeconds: 60, numberPool: pool, log })).toBe(
      'failed',
    );
    expect(fake.calls).toHaveLength(5);
    expect(lines.map((l) => l.level)).toEqual(['warn']);
  });

  test('an empty pool: one warning, nothing created or changed', async () => {
    const fake = fakeClient({ create: [], update: [] });
    const { log, lines } = recordingLog();
    expect(await manageReconcileSchedule(fake.client, { ...base, intervalSeconds: 60, numberPool: [], log })).toBe(
      'no-pool',
    );
    expect(fake.calls).toEqual([]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', msg: expect.stringMatching(/PRIVATENUMBER_NUMBER_POOL is empty/) });
  });

  test('interval off: the schedule is left alone', async () => {
    const fake = fakeClient({ create: [], update: [] });
    const { log, lines } = recordingLog();
    expect(await manageReconcileSchedule(fake.client, { ...base, intervalSeconds: null, numberPool: pool, log })).toBe(
      'not-managed',
    );
    expect(fake.calls).toEqual([]);
    expect(lines.map((l) => l.level)).toEqual(['info']);
  });
});
