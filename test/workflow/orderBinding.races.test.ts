import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { orderBinding } from '../../workflows';
import * as msg from '../../workflows/messages';
import { MAX_PARTIES } from '../../workflows/orderBinding';
import { providerEventsFromPush } from '../../workflows/providerEvents';
import type { BindflowActivities } from '../../activities/types';
import { createEnvWithSearchAttributes, createFakeWorker, FakeProvider, input, taskQueue } from './fakeProvider';

// The races the 0.1 code lost: concurrent party changes (its "lock" let waiters in together), a change
// after the end was decided, and a dead callback URL holding up continue-as-new and the end of the run.

let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await createEnvWithSearchAttributes();
});
afterAll(async () => {
  await env?.teardown();
});

const A = '+8613800000001';
const NUMBERS = ['+8613800000002', '+8613800000003', '+8613800000004', '+8613800000005', '+8613800000006'];
const EXTRA = '+8613800000007';

async function withWorker<T>(
  provider: FakeProvider,
  activities: Partial<BindflowActivities>,
  fn: (queue: string) => Promise<T>,
): Promise<T> {
  const queue = taskQueue('races');
  const worker = await createFakeWorker(env, provider, queue, activities);
  return worker.runUntil(() => fn(queue));
}

function refusalType(err: unknown): string | undefined {
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure)
    return err.cause.type ?? undefined;
  return undefined;
}

test('concurrent party adds never exceed the limit nor duplicate a label; the provider holds what the order says', async () => {
  const provider = new FakeProvider();
  const fast = provider.activities();
  // Slow YB binds: every change would be in flight at once without a real lock.
  const slowYb: Partial<BindflowActivities> = {
    bindYb: async (i) => {
      await new Promise((r) => setTimeout(r, 50));
      return fast.bindYb(i);
    },
  };
  await withWorker(provider, slowYb, async (queue) => {
    const handle = await env.client.workflow.start(orderBinding, {
      taskQueue: queue,
      workflowId: 'binding-o-races-add',
      args: [input('o-races-add', { parties: [{ label: 'b', number: NUMBERS[0] }] })],
    });
    await handle.executeUpdate(msg.awaitBound, { args: [10_000] });
    const labels = ['c', 'd', 'e', 'f', 'g', 'c'];
    const numbers = [NUMBERS[1], NUMBERS[2], NUMBERS[3], NUMBERS[4], EXTRA, EXTRA];
    const outcomes = await Promise.all(
      labels.map((label, i) =>
        handle.executeUpdate(msg.setParty, { args: [{ label, number: numbers[i] }] }).then(
          (v) => ({ ok: true as const, parties: v.parties.length }),
          (err) => ({ ok: false as const, type: refusalType(err), message: String(err?.cause?.message) }),
        ),
      ),
    );
    for (const o of outcomes) if (!o.ok) expect(o.type).toBe('REQUEST_REJECTED');
    const view = await handle.query(msg.getBinding);
    expect(view.parties.length).toBeLessThanOrEqual(MAX_PARTIES);
    expect(new Set(view.parties.map((p) => p.label)).size).toBe(view.parties.length);
    expect(new Set(view.parties.map((p) => p.number)).size).toBe(view.parties.length);
    const live = provider.bindings.get(view.subscriptionId!)!;
    expect(Object.fromEntries(live.yb)).toEqual(Object.fromEntries(view.parties.map((p) => [p.number, p.numberY])));
    await handle.executeUpdate(msg.release, { args: [{}] });
    expect(provider.liveCount()).toBe(0);
    const history = await handle.fetchHistory();
    expect(history.events?.filter((e) => e.workflowTaskFailedEventAttributes)).toEqual([]);
  });
});

test('changes queued behind a release are refused BINDING_RELEASING; after the end BINDING_CLOSED; release answers the final view', async () => {
  const provider = new FakeProvider();
  const fast = provider.activities();
  const slowUnbind: Partial<BindflowActivities> = {
    unbind: async (i) => {
      await new Promise((r) => setTimeout(r, 300));
      return fast.unbind(i);
    },
  };
  await withWorker(provider, slowUnbind, async (queue) => {
    const handle = await env.client.workflow.start(orderBinding, {
      taskQueue: queue,
      workflowId: 'binding-o-races-release',
      args: [input('o-races-release', { lateEventsGraceSeconds: 600 })],
    });
    await handle.executeUpdate(msg.awaitBound, { args: [10_000] });
    const release = handle.executeUpdate(msg.release, { args: [{ reason: 'cancelled' }] });
    await new Promise((r) => setTimeout(r, 100)); // the release is under way (its unbind is slow)
    const during = await Promise.all([
      handle.executeUpdate(msg.setParty, { args: [{ label: 'c', number: NUMBERS[1] }] }).catch((e) => e),
      handle.executeUpdate(msg.extend, { args: [{ durationSeconds: 600 }] }).catch((e) => e),
      handle.executeUpdate(msg.removeParty, { args: [{ label: 'b' }] }).catch((e) => e),
    ]);
    expect(during.map(refusalType)).toEqual(['BINDING_RELEASING', 'BINDING_RELEASING', 'BINDING_RELEASING']);
    expect((await release).state).toBe('released');
    const after = await handle.executeUpdate(msg.extend, { args: [{ durationSeconds: 60 }] }).catch((e) => e);
    expect(refusalType(after)).toBe('BINDING_CLOSED');
    expect((await handle.executeUpdate(msg.release, { args: [{}] })).state).toBe('released');
    expect(provider.liveCount()).toBe(0);
    expect((await handle.result()).state).toBe('released');
  });
});

test('an extension that arrives once the expiry was decided is refused, not answered with a dead expiry', async () => {
  const provider = new FakeProvider();
  const fast = provider.activities();
  const slowUnbind: Partial<BindflowActivities> = {
    unbind: async (i) => {
      await new Promise((r) => setTimeout(r, 1500));
      return fast.unbind(i);
    },
  };
  await withWorker(provider, slowUnbind, async (queue) => {
    const handle = await env.client.workflow.start(orderBinding, {
      taskQueue: queue,
      workflowId: 'binding-o-races-expiry',
      args: [input('o-races-expiry', { durationSeconds: 3600 })],
    });
    await handle.executeUpdate(msg.awaitBound, { args: [10_000] });
    await env.sleep(3600_000 + 1000); // the timer fires; the (slow) unbind is under way
    const late = await handle.executeUpdate(msg.extend, { args: [{ durationSeconds: 600 }] }).catch((e) => e);
    expect(refusalType(late)).toBe('BINDING_RELEASING');
    expect((late as WorkflowUpdateFailedError).cause?.message).toMatch(/expiry/);
    expect((await handle.result()).state).toBe('expired');
  });
});

test('a dead callback URL holds up neither continue-as-new nor the end: the outbox travels, then a workflow of its own delivers it', async () => {
  const provider = new FakeProvider();
  let failing = true;
  const tries: string[] = [];
  const deadUrl: Partial<BindflowActivities> = {
    notify: async (i) => {
      tries.push(i.eventId);
      if (failing) throw ApplicationFailure.retryable('connect ECONNREFUSED', 'NotifyNetwork');
      provider.notifications.push(i);
    },
  };
  await withWorker(provider, deadUrl, async (queue) => {
    const handle = await env.client.workflow.start(orderBinding, {
      taskQueue: queue,
      workflowId: 'binding-o-races-outbox',
      args: [input('o-races-outbox', { userCallbackUrl: 'https://dead.example/hook', continueAsNewAfterEvents: 100 })],
    });
    const bound = await handle.executeUpdate(msg.awaitBound, { args: [10_000] });
    const firstRunId = (await handle.describe()).runId;
    // Pushes until the history passes the threshold (then none: a push racing the continue-as-new only
    // makes the server retry it, which the time-skipping server does slowly).
    for (let i = 0; i < 80 && ((await handle.describe()).historyLength ?? 0) < 100; i++) {
      await handle.signal(
        msg.providerEvents,
        providerEventsFromPush({
          eventType: 'disconnect',
          statusInfo: {
            sessionId: `s-${i}`,
            subscriptionId: bound.subscriptionId,
            timestamp: '2026-11-29 10:00:00',
            caller: A,
            called: bound.numberX!,
            stateCode: 8101,
          },
        }),
      );
    }
    for (let i = 0; i < 100 && (await handle.describe()).runId === firstRunId; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    // Continued as new although binding.bound was never delivered.
    expect((await handle.describe()).runId).not.toBe(firstRunId);
    expect((await handle.query(msg.getBinding)).state).toBe('bound');
    // A fresh handle: the time-skipping server does not answer an update addressed through the first run
    // of a chain that has continued as new.
    const latest = env.client.workflow.getHandle(handle.workflowId);
    await latest.executeUpdate(msg.release, { args: [{}] });
    // The run ends; what it could not deliver goes on in bindflow-notifications-{orderId}.
    expect((await latest.result()).state).toBe('released');
    const child = env.client.workflow.getHandle('bindflow-notifications-o-races-outbox');
    expect((await child.describe()).status.name).toBe('RUNNING');
    failing = false;
    await child.result();
    const types = provider.notifications.map((n) => n.body.type);
    expect(types).toEqual(['binding.bound', 'binding.released']);
    // The same eventIds throughout: a receiver can deduplicate.
    expect(new Set(tries).size).toBe(2);
  });
});

// A workflow cancellation request (the Web UI's "Cancel", `temporal workflow cancel`) used to cancel the provider
// call under way and end the run "Canceled" with the binding still live at the provider. It is a release now.
test.each([
  ['once bound', false],
  ['while its YB bind is under way', true],
])(
  'a workflow cancellation request %s releases the binding: the provider call under way finishes, nothing is left bound',
  async (_when, midBind) => {
    const provider = new FakeProvider();
    const fast = provider.activities();
    let ybStarted!: () => void;
    const ybUnderWay = new Promise<void>((r) => (ybStarted = r));
    const slowYb: Partial<BindflowActivities> = {
      bindYb: async (i) => {
        ybStarted();
        await new Promise((r) => setTimeout(r, midBind ? 500 : 0));
        return fast.bindYb(i);
      },
    };
    await withWorker(provider, slowYb, async (queue) => {
      const orderId = `o-races-cancel-${midBind ? 'mid' : 'bound'}`;
      const handle = await env.client.workflow.start(orderBinding, {
        taskQueue: queue,
        workflowId: `binding-${orderId}`,
        args: [input(orderId, { userCallbackUrl: 'https://orders.example/hooks' })],
      });
      if (midBind) await ybUnderWay;
      else await handle.executeUpdate(msg.awaitBound, { args: [10_000] });
      await handle.cancel();
      const summary = await handle.result();
      expect(summary.state).toBe('released');
      expect(provider.liveCount()).toBe(0);
      expect(provider.calls.filter((c) => c === 'unbind').length).toBe(1);
      const released = provider.notifications.find((n) => n.body.type === 'binding.released');
      expect(released?.body).toMatchObject({ reason: 'workflow cancellation requested' });
      expect((await handle.describe()).status.name).toBe('COMPLETED');
      const history = await handle.fetchHistory();
      expect(history.events?.filter((e) => e.workflowTaskFailedEventAttributes)).toEqual([]);
      expect(history.events?.filter((e) => e.activityTaskCancelRequestedEventAttributes)).toEqual([]);
    });
  },
);

test('a workflow cancellation request does not cut short a party change under way: the change answers, then the release', async () => {
  const provider = new FakeProvider();
  const fast = provider.activities();
  let slowStarted!: () => void;
  const slowUnderWay = new Promise<void>((r) => (slowStarted = r));
  const slowSecondYb: Partial<BindflowActivities> = {
    bindYb: async (i) => {
      if (i.partyB === NUMBERS[1]) {
        slowStarted();
        await new Promise((r) => setTimeout(r, 500));
      }
      return fast.bindYb(i);
    },
  };
  await withWorker(provider, slowSecondYb, async (queue) => {
    const handle = await env.client.workflow.start(orderBinding, {
      taskQueue: queue,
      workflowId: 'binding-o-races-cancel-change',
      args: [input('o-races-cancel-change')],
    });
    await handle.executeUpdate(msg.awaitBound, { args: [10_000] });
    const change = handle.executeUpdate(msg.setParty, { args: [{ label: 'c', number: NUMBERS[1] }] });
    await slowUnderWay;
    await handle.cancel();
    const changed = await change;
    expect(changed.parties.map((p) => p.label)).toEqual(['b', 'c']);
    expect((await handle.result()).state).toBe('released');
    expect(provider.liveCount()).toBe(0);
    const history = await handle.fetchHistory();
    expect(history.events?.filter((e) => e.activityTaskCancelRequestedEventAttributes)).toEqual([]);
  });
});

test('a workflow cancellation request does not cut short a recording fetch a push started: the link arrives, then the release', async () => {
  const provider = new FakeProvider();
  const fast = provider.activities();
  let fetchStarted!: () => void;
  const fetchUnderWay = new Promise<void>((r) => (fetchStarted = r));
  const slowFetch: Partial<BindflowActivities> = {
    fetchRecordingUrl: async (i) => {
      fetchStarted();
      await new Promise((r) => setTimeout(r, 500));
      return fast.fetchRecordingUrl(i);
    },
  };
  await withWorker(provider, slowFetch, async (queue) => {
    const handle = await env.client.workflow.start(orderBinding, {
      taskQueue: queue,
      workflowId: 'binding-o-races-cancel-recording',
      args: [input('o-races-cancel-recording', { record: true, userCallbackUrl: 'https://orders.example/hooks' })],
    });
    const bound = await handle.executeUpdate(msg.awaitBound, { args: [10_000] });
    await handle.signal(
      msg.providerEvents,
      providerEventsFromPush({
        eventType: 'fee',
        feeLst: [
          {
            icid: 'icid-cancel',
            sessionId: 's-cancel',
            subscriptionId: bound.subscriptionId,
            direction: 0,
            callerNum: NUMBERS[0],
            calleeNum: bound.numberX,
            callInTime: '2026-11-29 10:00:00',
            fwdAnswerTime: '2026-11-29 10:00:05',
            callEndTime: '2026-11-29 10:00:47',
            recordFlag: 1,
            recordDomain: 'ostor.example',
            recordObjectName: 'rec-cancel.wav',
          },
        ],
      }),
    );
    await fetchUnderWay;
    await handle.cancel();
    const summary = await handle.result();
    expect(summary.state).toBe('released');
    const ready = provider.notifications.find((n) => n.body.type === 'recording.ready');
    expect(ready?.body).toMatchObject({ call: { recordingUrl: expect.stringMatching(/rec-cancel\.wav/) } });
    expect(provider.notifications.map((n) => n.body.type)).toContain('binding.released');
    const history = await handle.fetchHistory();
    expect(history.events?.filter((e) => e.activityTaskCancelRequestedEventAttributes)).toEqual([]);
  });
});
