import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { BindflowActivities, NotifyInput } from '../../activities/types';
import { getWorkflowBundle } from '../../worker/bundle';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../../workflows/searchAttributes';
import { createTimeSkippingEnv } from '../helpers/timeSkipping';

// An in-memory provider behind mocked activities, for time-skipping workflow tests: it keeps the
// bindings, so a test can assert that nothing is left bound.

export interface FakeBinding {
  subscriptionId: string;
  numberX: string;
  partyA: string;
  userData: string;
  durationSeconds: number;
  yb: Map<string, string>; // B → Y
}

export class FakeProvider {
  readonly bindings = new Map<string, FakeBinding>();
  readonly notifications: NotifyInput[] = [];
  readonly calls: string[] = [];
  /** B numbers whose YB bind is rejected permanently. */
  readonly rejectYbFor = new Set<string>();
  /** Reject AX binds permanently (e.g. no free number). */
  rejectAx = false;
  /** AX binds commit, then their answer is lost (every attempt). */
  dropAxResponses = false;
  private seq = 0;

  liveCount(): number {
    return this.bindings.size;
  }

  activities(): BindflowActivities {
    return {
      bindAx: async (input) => {
        this.calls.push('bindAx');
        if (this.rejectAx) throw ApplicationFailure.nonRetryable('1011002 insufficient number resources', 'Provider');
        const n = ++this.seq;
        const b: FakeBinding = {
          subscriptionId: `sub-${n}`,
          numberX: `+86755000${String(n).padStart(5, '0')}`,
          partyA: input.partyA,
          userData: input.userData,
          durationSeconds: input.durationSeconds,
          yb: new Map(),
        };
        this.bindings.set(b.subscriptionId, b);
        if (this.dropAxResponses) throw ApplicationFailure.retryable('TIMEOUT: no answer in time', 'Provider');
        return { subscriptionId: b.subscriptionId, numberX: b.numberX, adopted: false };
      },
      bindYb: async (input) => {
        this.calls.push('bindYb');
        if (this.rejectYbFor.has(input.partyB))
          throw ApplicationFailure.nonRetryable('1012102 number abnormal or blacklisted', 'Provider');
        const b = this.bindings.get(input.subscriptionId);
        if (!b) throw ApplicationFailure.nonRetryable('1016001 binding does not exist', 'Provider');
        const y = `+86755900${String(++this.seq).padStart(5, '0')}`;
        b.yb.set(input.partyB, y);
        return { numberY: y, adopted: false };
      },
      unbind: async (input) => {
        this.calls.push('unbind');
        const b = this.bindings.get(input.subscriptionId);
        if (!b) return { alreadyGone: true };
        if (input.numberY || input.partyB) {
          for (const [bNum, y] of b.yb) if (y === input.numberY || bNum === input.partyB) b.yb.delete(bNum);
        } else {
          this.bindings.delete(input.subscriptionId);
        }
        return { alreadyGone: false };
      },
      unbindByUserData: async ({ userData }) => {
        let unbound = 0;
        for (const [id, b] of this.bindings)
          if (b.userData === userData) {
            this.bindings.delete(id);
            unbound++;
          }
        return { unbound };
      },
      fetchRecordingUrl: async ({ fileName }) => ({ url: `https://records.example/${fileName}?sig=abc` }),
      notify: async (input) => {
        this.notifications.push(input);
      },
      listBindingsOnNumber: async ({ numberX }) =>
        [...this.bindings.values()]
          .filter((b) => b.numberX === numberX)
          .map((b) => ({
            subscriptionId: b.subscriptionId,
            numberX: b.numberX,
            userData: b.userData,
            subscribedAt: null,
            ybCount: b.yb.size,
          })),
      bindingOwnership: async ({ subscriptionId }) => ({ ownership: 'orphan', subscriptionId }),
      // Like bindingOwnership above: every bindflow binding is an orphan to this fake.
      reconcileNumbers: async ({ numbersX }) => {
        const found = [...this.bindings.values()].filter((b) => numbersX.includes(b.numberX));
        const ours = found.filter((b) => b.userData.startsWith('bf1:'));
        return {
          checked: found.length,
          foreign: found.length - ours.length,
          errors: 0,
          orphans: ours.map((b) => ({
            orderId: b.userData.split(':')[1],
            numberX: b.numberX,
            subscriptionId: b.subscriptionId,
          })),
        };
      },
    };
  }
}

// IndexedValueType of temporal.api.enums.v1.
const INDEXED_VALUE_TYPE = { Keyword: 2, Datetime: 6, KeywordList: 7 } as const;

/** A time-skipping env whose server knows the contract's search attributes (the workflow upserts them). */
export async function createEnvWithSearchAttributes(): Promise<TestWorkflowEnvironment> {
  const env = await createTimeSkippingEnv();
  const searchAttributes = Object.fromEntries(
    Object.entries(CUSTOM_SEARCH_ATTRIBUTES).map(([name, type]) => [name, INDEXED_VALUE_TYPE[type]]),
  );
  await env.connection.operatorService.addSearchAttributes({ namespace: 'default', searchAttributes });
  return env;
}

let queueSeq = 0;
export function taskQueue(prefix: string): string {
  return `${prefix}-${process.pid}-${++queueSeq}`;
}

export async function createFakeWorker(
  env: TestWorkflowEnvironment,
  provider: FakeProvider,
  queue: string,
  activities: Partial<BindflowActivities> = {},
): Promise<Worker> {
  return Worker.create({
    connection: env.nativeConnection,
    taskQueue: queue,
    workflowBundle: await getWorkflowBundle(),
    activities: { ...provider.activities(), ...activities },
  });
}

export function input(orderId: string, overrides: Record<string, unknown> = {}) {
  return {
    orderId,
    partyA: '+8613800000001',
    parties: [{ label: 'b', number: '+8613800000002' }],
    areaCode: '0755',
    areaMatchMode: 'strict' as const,
    durationSeconds: 7200,
    callDirection: 'both' as const,
    record: false,
    // An ended run stays open for late pushes (15 min by default); a run left open on a stopped test
    // worker would hold the time-skipping server's clock, so tests that want the window ask for it.
    lateEventsGraceSeconds: 0,
    ...overrides,
  };
}
