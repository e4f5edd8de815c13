import { isNotFound, isProviderError, maskNumber } from '../provider';
import type { Logger } from '../lib/log';
import { providerCall, toActivityFailure } from './failures';
import { currentAttempt, previousHeartbeat, withHeartbeat } from './heartbeat';
import { candidatesForArea, findByUserData, type SweepProgress } from './pool';
import type { ProviderPort } from './ports';
import type { BindflowActivities } from './types';

// The binding activities: one provider call each, plus the look-up that makes a retried bind safe.
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
): Pick<BindflowActivities, 'bindAx' | 'bindYb' | 'unbind' | 'unbindByUserData' | 'fetchRecordingUrl'> {
  const { provider, numberPool, log } = deps;

  return {
    async bindAx(input) {
      return withHeartbeat(async (beat) => {
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
          const candidates =
            input.areaMatchMode === 'strict' ? candidatesForArea(numberPool, input.areaCode) : numberPool;
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
      });
    },

    async bindYb(input) {
      return withHeartbeat(async () => {
        if (currentAttempt() > 1) {
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
      });
    },

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
