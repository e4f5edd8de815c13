import path from 'node:path';
import { Worker } from '@temporalio/worker';
import type { Client, Connection } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../../client/api';
import { BindflowClient } from '../../client/library';
import { BindflowError } from '../../client/errors';
import { createLogger } from '../../lib/log';
import type { BindingView } from '../../workflows/types';
import { connectDevServer, uniqueTaskQueue } from '../helpers/devServer';
import { SIM_APP, TEST_TOKEN } from '../helpers/api';
import { FAILURE_DETAILS, type Misbehaviour } from '../fixtures/wiring/misbehavingOrderBinding';

// The API's deadline and its mapping of the order workflow's failures, driven by stand-in `orderBinding`
// workflows (test/fixtures/wiring/misbehavingOrderBinding.ts) on their own task queue: an update that never
// finishes → 202 with the current view; a run whose workflow task keeps failing → 503 WORKFLOW_UNHEALTHY;
// each ApplicationFailure type → its code.

interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

describe('API deadline and workflow failure mapping', () => {
  let client: Client;
  let connection: Connection;
  let nativeConnection: NativeConnection;
  let worker: Worker;
  let running: Promise<void>;
  let app: FastifyInstance;
  let slowApp: FastifyInstance;
  const logLines: string[] = [];
  const workflowQueue = uniqueTaskQueue('misbehaving');
  const run = Date.now().toString(36);
  const orderOf = (m: Misbehaviour) => `deadline-${m}-${run}`;
  const auth = { authorization: `Bearer ${TEST_TOKEN}` };

  beforeAll(async () => {
    ({ client, connection, nativeConnection } = await connectDevServer());
    worker = await Worker.create({
      connection: nativeConnection,
      taskQueue: workflowQueue,
      workflowsPath: path.join(__dirname, '../fixtures/wiring/misbehavingOrderBinding.ts'),
    });
    running = worker.run();
    const common = {
      client,
      connection,
      // The API's own queue: nothing polls it, the stand-ins run on workflowQueue.
      taskQueue: uniqueTaskQueue('api-deadline'),
      apiToken: TEST_TOKEN,
      ...SIM_APP,
      log: createLogger('api', {}, (l) => logLines.push(l)),
    };
    app = buildApi(common);
    slowApp = buildApi({ ...common, changeWaitMs: 1500, queryWaitMs: 1500 });
    await Promise.all([app.ready(), slowApp.ready()]);
    for (const m of ['stuck', 'wedged', 'failing'] as const) {
      await client.workflow.start('orderBinding', {
        workflowId: `binding-${orderOf(m)}`,
        taskQueue: workflowQueue,
        args: [{ orderId: orderOf(m), misbehaviour: m }],
      });
    }
  }, 120_000);

  afterAll(async () => {
    for (const m of ['stuck', 'wedged', 'failing'] as const) {
      await client?.workflow
        .getHandle(`binding-${orderOf(m)}`)
        .terminate('test over')
        .catch(() => undefined);
    }
    await app?.close();
    await slowApp?.close();
    worker?.shutdown();
    await running?.catch(() => undefined);
    await nativeConnection?.close();
    await connection?.close();
  });

  async function call(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown, prefer?: string) {
    const started = Date.now();
    const res = await app.inject({
      method,
      url,
      headers: { ...auth, ...(prefer ? { prefer } : {}) },
      ...(body !== undefined ? { payload: body as Record<string, unknown> } : {}),
    });
    return { res, ms: Date.now() - started, json: () => res.json() as unknown };
  }

  describe('an update that is accepted and never finishes', () => {
    const order = () => orderOf('stuck');

    test.each([
      ['POST', 'binding/extend', { durationSeconds: 60 }],
      ['PUT', 'binding/parties/b', { number: '+8613800009003' }],
      ['DELETE', 'binding/parties/b', undefined],
      ['DELETE', 'binding', undefined],
    ] as const)('%s %s answers 202 with the current view after Prefer: wait=1', async (method, tail, body) => {
      const { res, ms, json } = await call(method, `/v1/orders/${order()}/${tail}`, body, 'wait=1');
      expect(res.statusCode).toBe(202);
      expect(res.headers['preference-applied']).toBe('wait=1');
      expect(json()).toMatchObject({ orderId: order(), state: 'bound', numberX: '+8675500009001' });
      expect(ms).toBeGreaterThanOrEqual(400);
      expect(ms).toBeLessThan(5_000);
    });

    test("without Prefer, the API's own deadline applies (here 1.5 s)", async () => {
      const started = Date.now();
      const res = await slowApp.inject({
        method: 'POST',
        url: `/v1/orders/${order()}/binding/extend`,
        headers: auth,
        payload: { durationSeconds: 60 },
      });
      expect(res.statusCode).toBe(202);
      expect(res.headers['preference-applied']).toBeUndefined();
      expect((res.json() as BindingView).orderId).toBe(order());
      expect(Date.now() - started).toBeLessThan(6_000);
    });

    test('the library says pending, and that the workflow accepted the change', async () => {
      const lib = new BindflowClient({ client, taskQueue: workflowQueue });
      const out = await lib.change(order(), { kind: 'extend', request: { durationSeconds: 60 } }, { waitMs: 1000 });
      expect(out).toMatchObject({ status: 'pending', accepted: true, binding: { orderId: order(), state: 'bound' } });
    });

    test('GET still answers at once', async () => {
      const { res, ms } = await call('GET', `/v1/orders/${order()}/binding`);
      expect(res.statusCode).toBe(200);
      expect(ms).toBeLessThan(2_000);
    });
  });

  describe('a run whose workflow task fails on every attempt', () => {
    const order = () => orderOf('wedged');

    beforeAll(async () => {
      // Wait until Temporal shows the task failing (attempt 2 or more): the state operators see too.
      const handle = client.workflow.getHandle(`binding-${order()}`);
      const until = Date.now() + 30_000;
      while (((await handle.describe()).raw.pendingWorkflowTask?.attempt ?? 0) < 2) {
        if (Date.now() > until) throw new Error('the wedged stand-in never failed its workflow task');
        await new Promise((r) => setTimeout(r, 200));
      }
    }, 40_000);
    // Its retries are busy work for the shared machine: end it as soon as its tests are done.
    afterAll(() =>
      client.workflow
        .getHandle(`binding-${order()}`)
        .terminate('test over')
        .catch(() => undefined),
    );

    test.each([
      ['POST', 'binding/extend', { durationSeconds: 60 }],
      ['PUT', 'binding/parties/b', { number: '+8613800009003' }],
      ['DELETE', 'binding', undefined],
      ['GET', 'binding', undefined],
    ] as const)('%s %s answers 503 WORKFLOW_UNHEALTHY within the deadline', async (method, tail, body) => {
      const { res, ms, json } = await call(method, `/v1/orders/${order()}/${tail}`, body, 'wait=1');
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      const err = (json() as ErrorBody).error;
      expect(err.code).toBe('WORKFLOW_UNHEALTHY');
      expect(err.message).toMatch(/workflow task has failed \d+ times/);
      expect(err.message).not.toMatch(/unexpected error/);
      expect(err.details).toMatchObject({ workflowId: `binding-${order()}`, workflowStatus: 'RUNNING' });
      expect(err.details!.workflowTaskAttempt).toBeGreaterThanOrEqual(2);
      expect(ms).toBeLessThan(5_000);
    });

    test('GET without Prefer gives up after the configured query wait', async () => {
      const started = Date.now();
      const res = await slowApp.inject({ method: 'GET', url: `/v1/orders/${order()}/binding`, headers: auth });
      expect(res.statusCode).toBe(503);
      expect((res.json() as ErrorBody).error.code).toBe('WORKFLOW_UNHEALTHY');
      expect(Date.now() - started).toBeLessThan(6_000);
    });

    test('the library throws WORKFLOW_UNHEALTHY rather than hanging', async () => {
      const lib = new BindflowClient({ client, taskQueue: workflowQueue });
      const err = await lib.change(order(), { kind: 'release' }, { waitMs: 1000 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(BindflowError);
      expect((err as BindflowError).code).toBe('WORKFLOW_UNHEALTHY');
    });

    test('the 503s are logged, without party numbers', () => {
      const lines = logLines.filter((l) => l.includes('WORKFLOW_UNHEALTHY'));
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.join('\n')).not.toMatch(/\+?86138\d{8}/);
    });
  });

  describe("the workflow's update failures map to codes", () => {
    const order = () => orderOf('failing');

    test.each([
      ['BINDING_RELEASING', 409],
      ['BINDING_CLOSED', 409],
      ['PARTY_BIND_FAILED', 422],
      ['REQUEST_REJECTED', 422],
    ])('%s → %i with its details', async (type, status) => {
      const { res, json } = await call('PUT', `/v1/orders/${order()}/binding/parties/${type}`, {
        number: '+8613800009003',
      });
      expect(res.statusCode).toBe(status);
      expect(json()).toEqual({
        error: { code: type, message: `fixture failure ${type}`, details: FAILURE_DETAILS[type] },
      });
    });

    test('any other failure type → 422 REQUEST_REJECTED naming the type', async () => {
      const { res, json } = await call('PUT', `/v1/orders/${order()}/binding/parties/PROVIDER_ON_FIRE`, {
        number: '+8613800009003',
      });
      expect(res.statusCode).toBe(422);
      expect(json()).toEqual({
        error: {
          code: 'REQUEST_REJECTED',
          message: 'fixture failure PROVIDER_ON_FIRE',
          details: { reason: 'PROVIDER_ON_FIRE' },
        },
      });
    });

    test('each route maps its own failure (extend 422, remove party 409, release 409)', async () => {
      const ext = await call('POST', `/v1/orders/${order()}/binding/extend`, { durationSeconds: 60 });
      expect([ext.res.statusCode, (ext.json() as ErrorBody).error.code]).toEqual([422, 'REQUEST_REJECTED']);
      const rm = await call('DELETE', `/v1/orders/${order()}/binding/parties/b`);
      expect([rm.res.statusCode, (rm.json() as ErrorBody).error.code]).toEqual([409, 'BINDING_CLOSED']);
      const rel = await call('DELETE', `/v1/orders/${order()}/binding`);
      expect([rel.res.statusCode, (rel.json() as ErrorBody).error.code]).toEqual([409, 'BINDING_RELEASING']);
      expect((rel.json() as ErrorBody).error.details).toEqual({ ending: 'released' });
    });
  });

  test('an unknown order is still 404, at once', async () => {
    const { res, ms, json } = await call('POST', `/v1/orders/deadline-none-${run}/binding/extend`, {
      durationSeconds: 60,
    });
    expect(res.statusCode).toBe(404);
    expect((json() as ErrorBody).error.code).toBe('NOT_FOUND');
    expect(ms).toBeLessThan(3_000);
    const get = await call('GET', `/v1/orders/deadline-none-${run}/binding`);
    expect(get.res.statusCode).toBe(404);
  });
});
