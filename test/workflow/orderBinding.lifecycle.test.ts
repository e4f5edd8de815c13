import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowFailedError, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { orderBinding } from '../../workflows';
import * as msg from '../../workflows/messages';
import { BOUND_VIEW_MEMO, memoViewFromBytes, SAFETY_MARGIN_SECONDS } from '../../workflows/types';
import { decodeStoredPayload } from '../../client/memoWait';
import { createEnvWithSearchAttributes, createFakeWorker, FakeProvider, input, taskQueue } from './fakeProvider';

// Long lifecycles in skipped time: 2-hour and 7-day bindings, extensions, expiry, release.

let env: TestWorkflowEnvironment;
let provider: FakeProvider;
let worker: Worker;
let queue: string;
let running: Promise<void>;

beforeAll(async () => {
  env = await createEnvWithSearchAttributes();
});
afterAll(async () => {
  await env?.teardown();
});
beforeEach(async () => {
  provider = new FakeProvider();
  queue = taskQueue('lifecycle');
  worker = await createFakeWorker(env, provider, queue);
  running = worker.run();
});
afterEach(async () => {
  worker.shutdown();
  await running;
});

function start(orderId: string, overrides: Record<string, unknown> = {}) {
  return env.client.workflow.start(orderBinding, {
    taskQueue: queue,
    workflowId: `binding-${orderId}`,
    args: [input(orderId, overrides)],
  });
}

test('a 2-hour binding binds AX and YB, expires after 2 hours, and unbinds', async () => {
  const handle = await start('o-2h');
  const bound = await handle.executeUpdate(msg.awaitBound, { args: [10_000] });
  expect(bound.state).toBe('bound');
  expect(bound.numberX).toMatch(/^\+86755/);
  expect(bound.parties).toEqual([{ label: 'b', number: '+8613800000002', numberY: expect.stringMatching(/^\+86/) }]);
  expect(provider.liveCount()).toBe(1);
  // The provider-side duration is the safety net: lifetime + default extension (= duration) + margin.
  expect([...provider.bindings.values()][0].durationSeconds).toBe(7200 + 7200 + SAFETY_MARGIN_SECONDS);

  await env.sleep('119m');
  expect((await handle.query(msg.getBinding)).state).toBe('bound');
  expect(provider.liveCount()).toBe(1);

  const summary = await handle.result();
  expect(summary.state).toBe('expired');
  expect(provider.liveCount()).toBe(0);
  expect(Date.parse(summary.endedAt) - Date.parse(summary.expiresAt)).toBeLessThan(60_000);
  expect(JSON.stringify(summary)).not.toContain('13800000002');
});

test('a 7-day binding extended twice expires at the extended time; beyond the maximum is rejected', async () => {
  const week = 7 * 24 * 3600;
  const handle = await start('o-7d', { durationSeconds: week, maxExtensionSeconds: 2 * 24 * 3600 });
  const bound = await handle.executeUpdate(msg.awaitBound, { args: [10_000] });
  const firstExpiry = Date.parse(bound.expiresAt);

  await env.sleep('6d');
  const ext1 = await handle.executeUpdate(msg.extend, { args: [{ durationSeconds: 24 * 3600 }] });
  expect(Date.parse(ext1.expiresAt)).toBe(firstExpiry + 24 * 3600 * 1000);
  expect(ext1.extensionRemainingSeconds).toBe(24 * 3600);

  const target = new Date(firstExpiry + 2 * 24 * 3600 * 1000).toISOString();
  const ext2 = await handle.executeUpdate(msg.extend, { args: [{ expiresAt: target }] });
  expect(ext2.expiresAt).toBe(target);

  await expect(handle.executeUpdate(msg.extend, { args: [{ durationSeconds: 60 }] })).rejects.toThrow(
    WorkflowUpdateFailedError,
  );
  const err = await handle.executeUpdate(msg.extend, { args: [{ durationSeconds: 60 }] }).catch((e) => e);
  expect(String(err.cause?.message)).toMatch(/exceeds maxExtensionSeconds/);

  await env.sleep('2d');
  expect((await handle.query(msg.getBinding)).state).toBe('bound'); // the original expiry has passed
  const summary = await handle.result();
  expect(summary.state).toBe('expired');
  expect(Date.parse(summary.endedAt)).toBeGreaterThanOrEqual(Date.parse(target));
  expect(provider.liveCount()).toBe(0);
});

test('release unbinds at once and ends released; later changes are rejected', async () => {
  const handle = await start('o-rel', { userCallbackUrl: 'https://orders.example/hooks' });
  await handle.executeUpdate(msg.awaitBound, { args: [10_000] });
  const released = await handle.executeUpdate(msg.release, { args: [{ reason: 'order delivered' }] });
  expect(released.state).toBe('released');
  expect(provider.liveCount()).toBe(0);
  const summary = await handle.result();
  expect(summary.state).toBe('released');
  expect(provider.notifications.map((n) => n.body.type)).toEqual(['binding.bound', 'binding.released']);
  expect(provider.notifications[1].body.reason).toBe('order delivered');
  // The run has ended: the server itself refuses updates to it.
  const late = await handle.executeUpdate(msg.extend, { args: [{ durationSeconds: 60 }] }).catch((e) => e);
  expect(late).toBeInstanceOf(WorkflowNotFoundError);
});

test('invalid input fails the start before any provider call, naming the field', async () => {
  const handle = await start('o-bad', {
    parties: [
      { label: 'b', number: '12345' },
      { label: 'b', number: '+8613800000003' },
    ],
  });
  const err = await handle.result().catch((e) => e);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  expect(String(err.cause?.message)).toMatch(/parties\.0\.number/);
  expect(String(err.cause?.message)).toMatch(/duplicate label/);
  expect(provider.calls).toEqual([]);
});

// The PUT waits for this memo instead of an update (client/library.ts): written once, when binding ends, whatever
// the end (bound, failed), holding the workflow's own view but for the parties' real numbers.
test.each([
  ['bound', false],
  ['failed', true],
])(
  'asked by its input, the run writes its view into the memo once, when binding ends (%s), with no party number',
  async (state, rejectAx) => {
    provider.rejectAx = rejectAx;
    const handle = await start(`o-memo-${state}`, { boundViewMemo: true });
    const view = await handle.executeUpdate(msg.awaitBound, { args: [10_000] });
    expect(view.state).toBe(state);
    const history = await handle.fetchHistory();
    const memos = (history.events ?? []).flatMap((e) => {
      const p = e.workflowPropertiesModifiedEventAttributes?.upsertedMemo?.fields?.[BOUND_VIEW_MEMO];
      return p ? [p] : [];
    });
    expect(memos).toHaveLength(1);
    const memo = memoViewFromBytes(await decodeStoredPayload(env.client, memos[0]));
    const { partyA: _a, parties, ...rest } = view;
    expect(memo).toEqual({ ...rest, parties: parties.map((p) => ({ label: p.label, numberY: p.numberY })) });
    expect(JSON.stringify(memo)).not.toContain('13800000001');
    expect(JSON.stringify(memo)).not.toContain('13800000002');
    if (state === 'bound') await handle.executeUpdate(msg.release, { args: [{}] });
    await handle.result().catch(() => undefined);
  },
);

test('unasked (BINDFLOW_BIND_WAIT=update), the run writes no memo', async () => {
  const handle = await start('o-memo-unasked');
  expect((await handle.executeUpdate(msg.awaitBound, { args: [10_000] })).state).toBe('bound');
  const history = await handle.fetchHistory();
  expect(history.events?.filter((e) => e.workflowPropertiesModifiedEventAttributes)).toEqual([]);
  await handle.executeUpdate(msg.release, { args: [{}] });
  await handle.result();
});
