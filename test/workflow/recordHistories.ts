// Records the replay fixtures under test/fixtures/histories (run on purpose, after an intended and
// compatible change): `node -r tsx/cjs test/workflow/recordHistories.ts && npx prettier --write
// test/fixtures/histories`. test/unit/workflowReplay.test.ts
// replays them against the current workflow code, so an accidental nondeterministic change fails.
import fs from 'node:fs';
import path from 'node:path';
import { historyToJson } from './histories';
import { orderBinding, reconcileBindings } from '../../workflows';
import * as msg from '../../workflows/messages';
import { providerEventsFromPush } from '../../workflows/providerEvents';
import { createEnvWithSearchAttributes, createFakeWorker, FakeProvider, input, taskQueue } from './fakeProvider';

const OUT = path.join(__dirname, '..', 'fixtures', 'histories');

async function main(): Promise<void> {
  const env = await createEnvWithSearchAttributes();
  const provider = new FakeProvider();
  const queue = taskQueue('record');
  const worker = await createFakeWorker(env, provider, queue);
  const running = worker.run();
  const start = (orderId: string, overrides: Record<string, unknown> = {}) =>
    env.client.workflow.start(orderBinding, {
      taskQueue: queue,
      workflowId: `binding-${orderId}`,
      args: [input(orderId, overrides)],
    });
  const save = async (name: string, workflowId: string, runId?: string) => {
    const history = await env.client.workflow.getHandle(workflowId, runId).fetchHistory();
    fs.writeFileSync(path.join(OUT, `${name}.json`), historyToJson(history) + '\n');
  };
  try {
    // Expiry after an extension, with a call and a recording, and notifications; a late call record after
    // the expiry, merged in the late-events window.
    const h1 = await start('rec-expiry', {
      record: true,
      userCallbackUrl: 'https://orders.example/hooks',
      lateEventsGraceSeconds: 600,
    });
    const b1 = await h1.executeUpdate(msg.awaitBound, { args: [10_000] });
    await h1.executeUpdate(msg.extend, { args: [{ durationSeconds: 600 }] });
    const common = { sessionId: 's-1', subscriptionId: b1.subscriptionId, userData: 'bf1:rec-expiry:abc' };
    await h1.signal(msg.providerEvents, [
      ...providerEventsFromPush({
        eventType: 'callin',
        statusInfo: { ...common, timestamp: '2026-11-29 10:00:00', caller: '+8613800000002', called: b1.numberX },
      }),
      ...providerEventsFromPush({
        eventType: 'fee',
        feeLst: [
          {
            ...common,
            icid: 'icid-1',
            direction: 0,
            callInTime: '2026-11-29 10:00:00',
            fwdAnswerTime: '2026-11-29 10:00:05',
            callEndTime: '2026-11-29 10:00:47',
            recordFlag: 1,
            recordDomain: 'ostor.example',
            recordObjectName: 'rec-1.wav',
          },
        ],
      }),
    ]);
    await env.sleep(8_100_000); // past the expiry (2 h 10 min), inside its 10-minute window
    await h1.signal(
      msg.providerEvents,
      providerEventsFromPush({
        eventType: 'fee',
        feeLst: [
          {
            ...common,
            sessionId: 's-late',
            icid: 'icid-late',
            direction: 1,
            callInTime: '2026-11-29 12:09:00',
            fwdAnswerTime: '2026-11-29 12:09:04',
            callEndTime: '2026-11-29 12:10:04',
            recordFlag: 0,
          },
        ],
      }),
    );
    await h1.result();
    await save('orderBinding-expiry-extension-call', h1.workflowId);

    // A long life that continues as new (a low threshold), then a release on the continued run.
    const h5 = await start('rec-can', { continueAsNewAfterEvents: 100 });
    const b5 = await h5.executeUpdate(msg.awaitBound, { args: [10_000] });
    const firstRunId = (await h5.describe()).runId;
    for (let i = 0; i < 120; i++) {
      await h5.signal(
        msg.providerEvents,
        providerEventsFromPush({
          eventType: 'disconnect',
          statusInfo: {
            sessionId: `s-${i}`,
            subscriptionId: b5.subscriptionId,
            timestamp: '2026-11-29 10:00:00',
            caller: '+8613800000002',
            called: b5.numberX,
            stateCode: 8101,
          },
        }),
      );
    }
    for (let i = 0; (await h5.describe()).runId === firstRunId; i++) {
      if (i > 100) throw new Error('rec-can did not continue as new');
      await new Promise((r) => setTimeout(r, 100));
    }
    await h5.executeUpdate(msg.release, { args: [{ reason: 'delivered' }] });
    await h5.result();
    await save('orderBinding-continued-as-new', h5.workflowId, firstRunId);
    await save('orderBinding-continued-run', h5.workflowId);

    // Reassignment, a party added and removed, then release.
    const h2 = await start('rec-reassign');
    await h2.executeUpdate(msg.awaitBound, { args: [10_000] });
    await h2.executeUpdate(msg.setParty, { args: [{ label: 'b', number: '+8613800000003' }] });
    await h2.executeUpdate(msg.setParty, { args: [{ label: 'shop', number: '+8613800000004' }] });
    await h2.executeUpdate(msg.removeParty, { args: [{ label: 'shop' }] });
    await h2.executeUpdate(msg.release, { args: [{ reason: 'delivered' }] });
    await h2.result();
    await save('orderBinding-reassign-release', h2.workflowId);

    // The saga on a rejected YB.
    provider.rejectYbFor.add('+8613800000009');
    const h3 = await start('rec-saga', { parties: [{ label: 'b', number: '+8613800000009' }] });
    await h3.result();
    await save('orderBinding-saga', h3.workflowId);

    // A reconciliation run with one orphan.
    const h4 = await start('rec-orphan');
    const b4 = await h4.executeUpdate(msg.awaitBound, { args: [10_000] });
    await h4.terminate('leave an orphan');
    await env.client.workflow.execute(reconcileBindings, {
      taskQueue: queue,
      workflowId: 'reconcile-rec',
      args: [{ numberPool: [b4.numberX!], graceSeconds: 0 }],
    });
    await save('reconcileBindings-orphan', 'reconcile-rec');
  } finally {
    worker.shutdown();
    await running;
    await env.teardown();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
