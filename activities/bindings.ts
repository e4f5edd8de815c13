import { ApplicationFailure } from '@temporalio/common';
import { isNotFound, isProviderError, maskNumber } from '../provider';
import type { Logger } from '../lib/log';
import { providerCall, toActivityFailure } from './failures';
import { currentAttempt, previousHeartbeat, withHeartbeat } from './heartbeat';
import { candidatesForArea, findByUserData, type SweepProgress } from './pool';
import type { ProviderPort } from './ports';
import type {
  BindAxInput,
  BindAxResult,
  BindAxYbInput,
  BindAxYbResult,
  BindflowActivities,
  BindYbInput,
  BindYbResult,
} from './types';

// The binding activities: one provider call each, plus the look-up that makes a retried bind safe; and the
// order's first bind, AX then every YB, in one activity (`bindAxYb`, one billable action instead of two).
//
// A bind is not idempotent and its response can be lost after the platform committed it (timeout,
// dropped connection, worker death). An AX is then simply bound again: sweeping the number pool for it
// on the order's hot path cost one query per number and tripped the platform's flow control. The
// possible orphan carries the order's userData under another subscription id: reconciliation unbinds it,
// and the provider-side duration bounds it meanwhile. Only when the platform refuses because A already
// holds five X (1011003), which this order's own orphans may cause, does a retry look for them. A YB is looked up first (one query on the known
// subscription) and adopted, since binding the same B twice under one AX would be refused.

export interface BindingDeps {
  provider: ProviderPort;
  /** The app's privacy numbers; without them a lost AX response cannot be found (the safety-net duration ends it). */
  numberPool: readonly string[];
  log: Logger;
  onAdopted?: (kind: 'ax' | 'yb') => void;
}

const AREA_MATCH = { strict: '0', province: '1' } as const;
const CALL_DIRECTION = { both: 0, 'a-to-b': 1, 'b-to-a': 2 } as const;

export function bindingActivities(
  deps: BindingDeps,
): Pick<BindflowActivities, 'bindAx' | 'bindYb' | 'bindAxYb' | 'unbind' | 'unbindByUserData' | 'fetchRecordingUrl'> {
  const { provider, numberPool, log } = deps;

  async function axStep(input: BindAxInput, beat: (details?: unknown) => void): Promise<BindAxResult> {
    let r;
    try {
      r = await provider.bindAx({
        origNum: input.partyA,
        areaCode: input.areaCode,
        areaMatchMode: AREA_MATCH[input.areaMatchMode],
        callDirection: CALL_DIRECTION[input.callDirection],
        duration: input.durationSeconds,
        // 0 = every YB (and an auto-Y) ends with the AX: the AX duration is the one safety net.
        ybDuration: 0,
        recordFlag: input.record,
        ...(input.recordHintTone ? { recordHintTone: input.recordHintTone } : {}),
        ...(input.preVoiceX ? { preVoiceX: input.preVoiceX } : {}),
        userData: input.userData,
      });
    } catch (err) {
      // The rare case where binding again does not do: A's five X are taken, possibly by this order's own
      // lost answers. Only then look for them (this order's userData) and adopt one.
      const slotsTaken = isProviderError(err) && err.code === '1011003';
      if (!slotsTaken || currentAttempt() === 1 || numberPool.length === 0) throw toActivityFailure(err);
      const candidates = input.areaMatchMode === 'strict' ? candidatesForArea(numberPool, input.areaCode) : numberPool;
      const earlier = await providerCall(() => findByUserData(provider, candidates, input.userData, beat));
      const adoptable = earlier.find((b) => b.subscriptionId);
      if (!adoptable?.subscriptionId) throw toActivityFailure(err);
      deps.onAdopted?.('ax');
      log.info('A holds its five X; adopted the AX an earlier attempt bound', {
        orderId: input.orderId,
        numberX: adoptable.numberX,
      });
      return { subscriptionId: adoptable.subscriptionId, numberX: adoptable.numberX, adopted: true };
    }
    log.info('AX bound', { orderId: input.orderId, numberX: r.relationNumber });
    return { subscriptionId: r.subscriptionId, numberX: r.relationNumber, adopted: false };
  }

  async function ybStep(input: BindYbInput, lookUpFirst: boolean): Promise<BindYbResult> {
    if (lookUpFirst) {
      const entries = await providerCall(() => provider.query({ subscriptionId: input.subscriptionId }));
      const earlier = entries.find((e) => e.numB === input.partyB && e.numY);
      if (earlier?.numY) {
        deps.onAdopted?.('yb');
        log.info('adopted YB bound by an earlier attempt', { partyB: maskNumber(input.partyB) });
        return { numberY: earlier.numY, adopted: true };
      }
    }
    const r = await providerCall(() =>
      provider.bindYb({
        origNum: input.partyB,
        subscriptionId: input.subscriptionId,
        areaCode: input.areaCode,
        areaMatchMode: AREA_MATCH[input.areaMatchMode],
        ...(input.preVoiceY ? { preVoiceY: input.preVoiceY } : {}),
      }),
    );
    return { numberY: r.relationNumber, adopted: false };
  }

  return {
    bindAx: (input) => withHeartbeat((beat) => axStep(input, beat)),

    bindYb: (input) => withHeartbeat(() => ybStep(input, currentAttempt() > 1 || input.lookUpFirst === true)),

    // The AX was bound by this very attempt, so no YB under it can predate it: no look-up before a YB.
    bindAxYb: (input) =>
      withHeartbeat((beat) =>
        bindAxThenYbs({ bindAx: (ax) => axStep(ax, beat), bindYb: (yb) => ybStep(yb, false) })(input),
      ),

    async unbind(input) {
      return withHeartbeat(async () => {
        try {
          await provider.unbind({
            subscriptionId: input.subscriptionId,
            ...(input.numberY ? { yNum: input.numberY } : input.partyB ? { bNum: input.partyB } : {}),
          });
          return { alreadyGone: false };
        } catch (err) {
          // 1016001: already gone (expired, or an earlier attempt whose answer was lost): done.
          if (isNotFound(err)) return { alreadyGone: true };
          throw toActivityFailure(err);
        }
      });
    },

    async unbindByUserData({ userData }) {
      if (numberPool.length === 0) {
        log.warn('no number pool configured: a bind with a lost response is left to its provider-side duration');
        return { unbound: 0 };
      }
      return withHeartbeat(async (beat) => {
        // No bind with this userData happens any more: an attempt may resume where the last one stopped.
        const found = await providerCall(() =>
          findByUserData(provider, numberPool, userData, beat, previousHeartbeat<SweepProgress>()),
        );
        let unbound = 0;
        for (const b of found) {
          if (!b.subscriptionId) continue;
          try {
            await provider.unbind({ subscriptionId: b.subscriptionId });
            unbound++;
          } catch (err) {
            if (!isNotFound(err)) throw toActivityFailure(err);
          }
        }
        if (unbound > 0) log.info('unbound the binding of a bind whose outcome was unknown', { unbound });
        return { unbound };
      });
    },

    async fetchRecordingUrl(input) {
      const url = await providerCall(() => provider.recordingUrl(input));
      return { url };
    },
  };
}

/** The two steps `bindAxYb` is made of: the provider's (above), or a test's fake provider's. */
export interface BindSteps {
  bindAx(input: BindAxInput): Promise<BindAxResult>;
  bindYb(input: BindYbInput): Promise<BindYbResult>;
}

/**
 * The order's first bind in one activity: the AX, then each party's YB in turn. An AX failure is thrown (the
 * activity's retry binds the AX again, like `bindAx`'s). A YB failure is not: the answer says what was bound
 * and which party stopped it, so the workflow never loses a bound AX to a retry and decides itself (the saga
 * for a definite refusal, the single-step `bindYb` with its retries otherwise).
 */
export function bindAxThenYbs(steps: BindSteps): (input: BindAxYbInput) => Promise<BindAxYbResult> {
  return async (input) => {
    const ax = await steps.bindAx(input.ax);
    const parties: BindAxYbResult['parties'] = [];
    for (const { label, partyB } of input.parties) {
      try {
        const yb = await steps.bindYb({ subscriptionId: ax.subscriptionId, partyB, ...input.yb });
        parties.push({ label, numberY: yb.numberY });
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        const definite = err instanceof ApplicationFailure && err.nonRetryable === true;
        return { ...ax, parties, stopped: { label, message, definite } };
      }
    }
    return { ...ax, parties, stopped: null };
  };
}
