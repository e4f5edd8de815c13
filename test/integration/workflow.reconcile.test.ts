import type { Client } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { PrivateNumberClient } from '../../provider';
import { connectDevServer, uniqueTaskQueue } from '../helpers/devServer';
import { ensureReconcileSchedule } from '../../worker/schedule';
import { orderBinding, reconcileBindings } from '../../workflows';
import * as msg from '../../workflows/messages';
import { startSimHarness, startSimWorker, testClientOptions, type SimHarness } from '../workflow/simHarness';

// Reconciliation unbinds what no open workflow owns, leaves owned and foreign bindings alone.

let client: Client;
let connection: NativeConnection;
let closeConnection: () => Promise<void>;
let h: SimHarness;
let stopWorker: () => Promise<void>;
const taskQueue = uniqueTaskQueue('wf-reconcile');

beforeAll(async () => {
  const c = await connectDevServer();
  client = c.client;
  connection = c.nativeConnection;
  closeConnection = async () => {
    await c.nativeConnection.close();
    await c.connection.close();
  };
  h = await startSimHarness(client);
  const w = await startSimWorker(connection, taskQueue, h);
  stopWorker = async () => {
    w.worker.shutdown();
    await w.running;
  };
});

afterAll(async () => {
  await stopWorker?.();
  await h?.close();
  await closeConnection?.();
});

function input(orderId: string, a: string, b: string) {
  return { orderId, partyA: a, parties: [{ label: 'b', number: b }], areaCode: '0755', durationSeconds: 3600 };
}

test('orphans are unbound (lost bind, terminated workflow); owned and foreign bindings stay', async () => {
  const provider = new PrivateNumberClient(testClientOptions(h.sim));
  const run = `${process.pid}`;
  // 1. A bind whose workflow never learnt of it (no workflow at all for this order).
  await provider.bindAx({
    origNum: '+8613900000001',
    areaCode: '021',
    duration: 3600,
    userData: `bf1:lost-${run}:abc`,
  });
  // 2. A complete AXYB whose workflow was terminated by hand.
  const dead = await client.workflow.start(orderBinding, {
    taskQueue,
    workflowId: `binding-dead-${run}`,
    args: [input(`dead-${run}`, '+8613900000002', '+8613900000003')],
  });
  expect((await dead.executeUpdate(msg.awaitBound, { args: [20_000] })).state).toBe('bound');
  await dead.terminate('operator mistake');
  // 3. An order that is alive and bound.
  const alive = await client.workflow.start(orderBinding, {
    taskQueue,
    workflowId: `binding-alive-${run}`,
    args: [input(`alive-${run}`, '+8613900000004', '+8613900000005')],
  });
  const aliveView = await alive.executeUpdate(msg.awaitBound, { args: [20_000] });
  // 4. Someone else's binding on the same app.
  const foreign = await provider.bindAx({
    origNum: '+8613900000006',
    areaCode: '010',
    duration: 3600,
    userData: 'crm:42',
  });
  expect(h.sim.bindings()).toHaveLength(4);

  const result = await client.workflow.execute(reconcileBindings, {
    taskQueue,
    workflowId: `reconcile-${run}`,
    args: [{ numberPool: h.numberPool, graceSeconds: 0 }],
  });
  expect(result).toEqual({ checked: 4, orphansUnbound: 2, foreign: 1, errors: 0 });
  const left = h.sim
    .bindings()
    .map((b) => b.subscriptionId)
    .sort();
  expect(left).toEqual([aliveView.subscriptionId, foreign.subscriptionId].sort());

  await alive.executeUpdate(msg.release, { args: [{}] });
  await provider.unbind({ subscriptionId: foreign.subscriptionId });
  expect(h.sim.bindings()).toEqual([]);
  await provider.close();
});

test('ensureReconcileSchedule creates the schedule, then updates it in place', async () => {
  const scheduleId = `reconcile-${process.pid}-${Date.now()}`;
  await ensureReconcileSchedule(client, { intervalSeconds: 60, taskQueue, numberPool: h.numberPool, scheduleId });
  await ensureReconcileSchedule(client, {
    intervalSeconds: 300,
    taskQueue,
    numberPool: ['+8675528000001'],
    scheduleId,
  });
  const handle = client.schedule.getHandle(scheduleId);
  try {
    const d = await handle.describe();
    expect(d.spec.intervals?.[0].every).toBe(300_000);
    expect(d.action.type).toBe('startWorkflow');
    if (d.action.type === 'startWorkflow') {
      expect(d.action.workflowType).toBe('reconcileBindings');
      expect(d.action.taskQueue).toBe(taskQueue);
      expect(d.action.args).toEqual([{ numberPool: ['+8675528000001'] }]);
    }
  } finally {
    await handle.delete();
  }
});
