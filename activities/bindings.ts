import { isNotFound, maskNumber } from '../provider';
import type { Logger } from '../lib/log';
import { providerCall, toActivityFailure } from './failures';
import { currentAttempt, previousHeartbeat, withHeartbeat } from './heartbeat';
import { candidatesForArea, findByUserData, type SweepProgress } from './pool';
import type { ProviderPort } from './ports';
import type { BindflowActivities } from './types';

// The binding activities: one provider call each, plus the look-up that makes a retried bind safe.
//
// A bind is not idempotent and its response can be lost after the platform committed it (timeout,
// dropped connection, worker death). So from the second attempt on, a bind first looks for what an
// earlier attempt may have bound and adopts it: an AX by the attempt's unique userData (sweeping the
// app's number pool, since nothing else identifies it), a YB by its B under the known subscription.

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
        if (currentAttempt() > 1 && numberPool.length > 0) {
          // Always a full sweep (never resumed): this attempt's own bind comes after it, so an earlier
          // attempt's bind may sit on any number. Strict-area binds can only be on the area's numbers.
          const candidates =
            input.areaMatchMode === 'strict' ? candidatesForArea(numberPool, input.areaCode) : numberPool;
          const earlier = await providerCall(() => findByUserData(provider, candidates, input.userData, beat));
          const adoptable = earlier.find((b) => b.subscriptionId);
          if (adoptable?.subscriptionId) {
            deps.onAdopted?.('ax');
            log.info('adopted AX bound by an earlier attempt', { orderId: input.orderId, numberX: adoptable.numberX });
            return { subscriptionId: adoptable.subscriptionId, numberX: adoptable.numberX, adopted: true };
          }
        }
        const r = await providerCall(() =>
          provider.bindAx({
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
          }),
        );
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
