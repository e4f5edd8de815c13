import path from 'node:path';
import { z } from 'zod';
import { Client, Connection } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApi } from '../../client/api';
import { registerCodecServer } from '../../client/codecServer';
import { codecFromEnv } from '../../lib/codec';
import { createLogger } from '../../lib/log';
import { signHeaders } from '../../provider/aksk';
import { BindflowError, type BindflowErrorCode } from '../../client/errors';
import { OPERATIONS, documentedStatuses, type OperationSpec } from '../../client/openapi';
import type { BindingView } from '../../workflows/types';
import { startStack, type Stack } from '../helpers/stack';
import { startTcpProxy } from '../helpers/tcpProxy';
import { connectDevServer, devServerAddress, uniqueTaskQueue } from '../helpers/devServer';
import { SIM_APP, TEST_TOKEN } from '../helpers/api';
import type { Misbehaviour } from '../fixtures/wiring/misbehavingOrderBinding';

// Every response status the OpenAPI document lists for an operation is one the route really answers: each
// (operation, status) pair is produced here against live servers, and its body checked against the documented
// schema. The servers: the whole stack (dev server, worker, simulator, API with the codec server); an API whose
// orders are stand-in workflows that never finish or refuse every change (test/fixtures/wiring); and an API whose
// Temporal connection is cut.

const run = Date.now().toString(36);
const A = '+8613822220001';
const B = '+8613822220002';
const bindBody = (a = A, b = B) => ({ partyA: a, partyB: b, areaCode: '0755', durationSeconds: 3600 });
const auth = { authorization: `Bearer ${TEST_TOKEN}` };
const json = { 'content-type': 'application/json' };

type Call = {
  app: 'stack' | 'stand-in' | 'cut';
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  raw?: string;
};
type Recipe = (op: OperationSpec) => Call | Promise<Call>;

/** The operation's path with its parameters filled in. */
function url(op: OperationSpec, params: { orderId?: string; label?: string } = {}): string {
  return op.path.replace(':orderId', params.orderId ?? `o-${run}`).replace(':label', params.label ?? 'b');
}

const big = (bytes: number) => JSON.stringify({ reason: 'x'.repeat(bytes) });
const bodyOps = new Set(['put', 'post', 'delete']);

describe('every documented status is one the route answers', () => {
  let s: Stack;
  let standIn: FastifyInstance;
  let cut: FastifyInstance;
  let worker: Worker;
  let workerRun: Promise<void>;
  let client: Client;
  let closeAll: () => Promise<void>;
  const order = `st-${run}`;
  const released = `st-rel-${run}`;
  const orderOf = (m: Misbehaviour) => `st-${m}-${run}`;

  beforeAll(async () => {
    const payloadKey = Buffer.alloc(32, 5).toString('base64');
    s = await startStack({ prefix: 'statuses', payloadKey, bindPatienceMs: 15_000 });
    const dev = await connectDevServer();
    client = dev.client;
    // Stand-in `orderBinding` workflows on their own queue, behind an API with short deadlines.
    const standInQueue = uniqueTaskQueue('statuses-stand-in');
    worker = await Worker.create({
      connection: dev.nativeConnection,
      taskQueue: standInQueue,
      workflowsPath: path.join(__dirname, '../fixtures/wiring/misbehavingOrderBinding.ts'),
    });
    workerRun = worker.run();
    const log = createLogger('api', {}, () => undefined);
    standIn = buildApi({
      client,
      connection: dev.connection,
      taskQueue: uniqueTaskQueue('statuses-unpolled'),
      apiToken: TEST_TOKEN,
      ...SIM_APP,
      log,
      changeWaitMs: 1500,
      queryWaitMs: 1500,
    });
    for (const m of ['stuck', 'failing'] as const)
      await client.workflow.start('orderBinding', {
        workflowId: `binding-${orderOf(m)}`,
        taskQueue: standInQueue,
        args: [{ orderId: orderOf(m), misbehaviour: m }],
      });
    // An API whose Temporal is unreachable.
    const proxy = await startTcpProxy(devServerAddress());
    const cutConnection = await Connection.connect({ address: proxy.address });
    const codec = codecFromEnv({ BINDFLOW_PAYLOAD_KEY: payloadKey })!;
    cut = buildApi({
      client: new Client({ connection: cutConnection }),
      connection: cutConnection,
      taskQueue: s.taskQueue,
      apiToken: TEST_TOKEN,
      ...SIM_APP,
      log,
      extend: (a, { authorize }) => registerCodecServer(a, { codec, authorize, corsOrigins: [] }),
    });
    await Promise.all([standIn.ready(), cut.ready()]);
    proxy.cut();
    askUnreachableAtOnce();
    // One bound order, one released.
    expect((await s.http('PUT', `/v1/orders/${order}/binding`, bindBody())).status).toBe(201);
    expect(
      (await s.http('PUT', `/v1/orders/${released}/binding`, bindBody('+8613822220003', '+8613822220004'))).status,
    ).toBe(201);
    expect((await s.http('DELETE', `/v1/orders/${released}/binding`)).status).toBe(200);
    closeAll = async () => {
      for (const m of ['stuck', 'failing'] as const)
        await client.workflow
          .getHandle(`binding-${orderOf(m)}`)
          .terminate('test over')
          .catch(() => undefined);
      await standIn.close();
      await cut.close();
      await cutConnection.close();
      await proxy.close();
      worker.shutdown();
      await workerRun.catch(() => undefined);
      await dev.nativeConnection.close();
      await dev.connection.close();
    };
  }, 120_000);

  afterAll(async () => {
    await closeAll?.();
    await s?.close();
  });

  const signed = () => ({ ...signHeaders(SIM_APP), ...json });
  const push = {
    eventType: 'disconnect',
    statusInfo: { timestamp: '2026-12-01 12:00:00', sessionId: `st-session-${run}`, userData: `bf1:st-none-${run}:x` },
  };

  /** Generic recipes by status; a few operations have their own below. */
  const byStatus: Record<number, Recipe> = {
    400: (op) => {
      if (op.operationId === 'listBindings')
        return { app: 'stack', method: 'GET', url: '/v1/bindings?state=nope', headers: auth };
      if (op.operationId === 'providerPush')
        return { app: 'stack', method: 'POST', url: op.path, headers: signed(), body: { eventType: 'fee' } };
      if (op.path.startsWith('/codec'))
        return { app: 'stack', method: 'POST', url: op.path, headers: { ...auth, ...json }, body: { payloads: 'no' } };
      return {
        app: 'stack',
        method: op.method.toUpperCase(),
        url: url(op, { orderId: 'bad%20id' }),
        headers: { ...auth, ...(bodyOps.has(op.method) ? json : {}) },
        ...(bodyOps.has(op.method) && op.method !== 'delete' ? { body: {} } : {}),
      };
    },
    401: (op) => ({
      app: 'stack',
      method: op.method.toUpperCase(),
      url: url(op),
      headers: op.auth === 'aksk' ? { authorization: 'Bearer not-a-signature', ...json } : json,
      ...(op.body ? { body: op.body.example } : {}),
    }),
    404: (op) => ({
      app: 'stack',
      method: op.method.toUpperCase(),
      url: url(op, { orderId: `nobody-${run}` }),
      headers: { ...auth, ...(op.body ? json : {}) },
      ...(op.body ? { body: op.body.example } : {}),
    }),
    413: (op) => ({
      app: 'stack',
      method: op.method.toUpperCase(),
      url: url(op, { orderId: order }),
      headers: { ...(op.auth === 'aksk' ? signHeaders(SIM_APP) : auth), ...json },
      raw: big(op.path.startsWith('/codec') ? 9 * 1024 * 1024 : op.auth === 'aksk' ? 600 * 1024 : 70 * 1024),
    }),
    415: (op) => ({
      app: 'stack',
      method: op.method.toUpperCase(),
      url: url(op, { orderId: order }),
      headers: { ...(op.auth === 'aksk' ? signHeaders(SIM_APP) : auth), 'content-type': 'text/plain' },
      raw: 'hello',
    }),
    503: (op) => ({
      app: 'cut',
      method: op.method.toUpperCase(),
      url: url(op, { orderId: order }),
      headers: { ...(op.auth === 'aksk' ? signHeaders(SIM_APP) : auth), ...(op.body ? json : {}), prefer: 'wait=1' },
      ...(op.body ? { body: op.body.example } : {}),
    }),
    // Changes of an order whose workflow accepts them and never finishes: past the deadline, the current view.
    202: (op) => ({
      app: 'stand-in',
      method: op.method.toUpperCase(),
      url: url(op, { orderId: orderOf('stuck') }),
      headers: { ...auth, ...(op.body ? json : {}) },
      ...(op.body ? { body: op.body.example } : {}),
    }),
  };

  /** (operationId, status) → recipe, where the generic one does not apply. */
  const special: Record<string, Recipe> = {
    'bindOrder 200': (op) => ({
      app: 'stack',
      method: 'PUT',
      url: url(op, { orderId: order }),
      headers: auth,
      body: bindBody(),
    }),
    'bindOrder 201': (op) => ({
      app: 'stack',
      method: 'PUT',
      url: url(op, { orderId: `st-new-${run}` }),
      headers: auth,
      body: bindBody('+8613822220005', '+8613822220006'),
    }),
    // The provider does not answer the bind within the wait the caller asked for.
    'bindOrder 202': (op) => {
      s.sim.setFaults([{ api: 'bindAx', fault: 'timeout', count: 1 }]);
      return {
        app: 'stack',
        method: 'PUT',
        url: url(op, { orderId: `st-slow-${run}` }),
        headers: { ...auth, prefer: 'wait=1' },
        body: bindBody('+8613822220007', '+8613822220008'),
      };
    },
    'bindOrder 409': (op) => ({
      app: 'stack',
      method: 'PUT',
      url: url(op, { orderId: order }),
      headers: auth,
      body: { ...bindBody(), durationSeconds: 7200 },
    }),
    'getBinding 200': (op) => ({ app: 'stack', method: 'GET', url: url(op, { orderId: order }), headers: auth }),
    'extendBinding 200': (op) => ({
      app: 'stack',
      method: 'POST',
      url: url(op, { orderId: order }),
      headers: auth,
      body: { durationSeconds: 60 },
    }),
    'extendBinding 409': (op) => ({
      app: 'stack',
      method: 'POST',
      url: url(op, { orderId: released }),
      headers: auth,
      body: { durationSeconds: 60 },
    }),
    'extendBinding 422': (op) => ({
      app: 'stack',
      method: 'POST',
      url: url(op, { orderId: order }),
      headers: auth,
      body: { durationSeconds: 999_999 },
    }),
    'setParty 200': (op) => ({
      app: 'stack',
      method: 'PUT',
      url: url(op, { orderId: order, label: 'c' }),
      headers: auth,
      body: { number: '+8613822220009' },
    }),
    'setParty 409': (op) => ({
      app: 'stack',
      method: 'PUT',
      url: url(op, { orderId: released }),
      headers: auth,
      body: { number: '+8613822220010' },
    }),
    'setParty 422': (op) => ({
      app: 'stack',
      method: 'PUT',
      url: url(op, { orderId: order, label: 'd' }),
      headers: auth,
      body: { number: A },
    }),
    'removeParty 200': (op) => ({
      app: 'stack',
      method: 'DELETE',
      url: url(op, { orderId: order, label: 'c' }),
      headers: auth,
    }),
    'removeParty 409': (op) => ({ app: 'stack', method: 'DELETE', url: url(op, { orderId: released }), headers: auth }),
    'removeParty 422': (op) => ({
      app: 'stack',
      method: 'DELETE',
      url: url(op, { orderId: order, label: 'nobody' }),
      headers: auth,
    }),
    'releaseBinding 200': (op) => ({ app: 'stack', method: 'DELETE', url: url(op, { orderId: order }), headers: auth }),
    'releaseBinding 409': (op) => ({
      app: 'stack',
      method: 'DELETE',
      url: url(op, { orderId: released }),
      headers: auth,
    }),
    'listBindings 200': () => ({ app: 'stack', method: 'GET', url: '/v1/bindings?state=bound', headers: auth }),
    'poolCapacity 200': () => ({ app: 'stack', method: 'GET', url: '/v1/pool', headers: auth }),
    'providerPush 200': (op) => ({ app: 'stack', method: 'POST', url: op.path, headers: signed(), body: push }),
    'codecEncode 200': (op) => ({
      app: 'stack',
      method: 'POST',
      url: op.path,
      headers: { ...auth, ...json },
      body: {
        payloads: [
          {
            metadata: { encoding: Buffer.from('json/plain').toString('base64') },
            data: Buffer.from('{}').toString('base64'),
          },
        ],
      },
    }),
    'codecEncodePreflight 204': (op) => ({ app: 'stack', method: 'OPTIONS', url: op.path }),
    'codecDecodePreflight 204': (op) => ({ app: 'stack', method: 'OPTIONS', url: op.path }),
    'ready 503': () => ({ app: 'cut', method: 'GET', url: '/readyz', headers: auth }),
  };
  // decode what encode made
  special['codecDecode 200'] = async (op) => {
    const enc = await s.app.inject({
      method: 'POST',
      url: '/codec/encode',
      headers: { ...auth, ...json },
      payload: {
        payloads: [
          {
            metadata: { encoding: Buffer.from('json/plain').toString('base64') },
            data: Buffer.from('{}').toString('base64'),
          },
        ],
      },
    });
    return { app: 'stack', method: 'POST', url: op.path, headers: { ...auth, ...json }, body: enc.json() };
  };
  for (const id of ['health', 'openapi', 'docs'])
    special[`${id} 200`] = (op) => ({ app: 'stack', method: 'GET', url: op.path });
  for (const id of ['ready', 'metrics'])
    special[`${id} 200`] = (op) => ({ app: 'stack', method: 'GET', url: op.path, headers: auth });

  function send(call: Call): Promise<LightMyRequestResponse> {
    const app = call.app === 'stack' ? s.app : call.app === 'stand-in' ? standIn : cut;
    const headers = { ...call.headers };
    if (call.body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type'))
      headers['content-type'] = 'application/json';
    return app.inject({
      method: call.method as 'GET',
      url: call.url,
      headers,
      ...(call.raw !== undefined
        ? { payload: call.raw }
        : call.body !== undefined
          ? { payload: JSON.stringify(call.body) }
          : {}),
    });
  }

  /** The answers of the API without Temporal take long (the client's retries): asked all at once, up front. */
  const unreachable = new Map<string, Promise<LightMyRequestResponse>>();
  function askUnreachableAtOnce() {
    for (const op of OPERATIONS) {
      if (!documentedStatuses(op).includes(503)) continue;
      const key = `${op.operationId} 503`;
      const recipe = special[key] ?? byStatus[503];
      const p = Promise.resolve(recipe(op)).then(send);
      p.catch(() => undefined);
      unreachable.set(key, p);
    }
  }

  /** The documented body schema of (operation, status). */
  function documentedSchema(op: OperationSpec, status: number): z.ZodTypeAny | undefined {
    if (op.ok[status]) return op.ok[status].schema;
    const codes = op.errors.filter((c) => new BindflowError(c, '').status === status) as [
      BindflowErrorCode,
      ...BindflowErrorCode[],
    ];
    return z
      .object({
        error: z.object({ code: z.enum(codes), message: z.string(), details: z.unknown().optional() }).strict(),
      })
      .strict();
  }

  // Changes first on the open order, its release last: the order of the list matters for the stack's order.
  const pairs = OPERATIONS.flatMap((op) => documentedStatuses(op).map((status) => ({ op, status })));
  const releaseLast = (p: { op: OperationSpec; status: number }) =>
    p.op.operationId === 'releaseBinding' && p.status === 200 ? 1 : 0;
  pairs.sort((a, b) => releaseLast(a) - releaseLast(b));

  test.each(pairs.map((p) => [`${p.op.method.toUpperCase()} ${p.op.path} → ${p.status}`, p] as const))(
    '%s',
    async (_name, { op, status }) => {
      const recipe = special[`${op.operationId} ${status}`] ?? byStatus[status];
      if (!recipe)
        throw new Error(
          `no way to produce ${status} for ${op.operationId}: add a recipe or drop the status from the document`,
        );
      const key = `${op.operationId} ${status}`;
      let res: LightMyRequestResponse;
      try {
        res = await (unreachable.get(key) ?? send(await recipe(op)));
      } finally {
        s.sim.setFaults([]);
      }
      expect({ status: res.statusCode, body: res.body.slice(0, 400) }).toEqual({ status, body: expect.any(String) });
      const schema = documentedSchema(op, status);
      if (schema && (op.ok[status]?.contentType ?? 'application/json') === 'application/json') {
        const parsed = schema.safeParse(res.json());
        if (!parsed.success)
          throw new Error(`answer does not match the document: ${parsed.error.message}\n${res.body.slice(0, 2000)}`);
      }
      if (status === 503)
        expect(res.headers['retry-after'] ?? (op.operationId === 'ready' ? 'n/a' : undefined)).toBeDefined();
      if (status === 202) expect((res.json() as BindingView).orderId).toBeDefined();
    },
    60_000,
  );
});
