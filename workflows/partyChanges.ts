import { ActivityFailure, ApplicationFailure, uuid4 } from '@temporalio/workflow';
import { binds, cleanup } from './activityStubs';
import { FailureType, refusal, rejected } from './failures';
import type { Ending, Order } from './order';
import { PartySchema, providerDurationSeconds } from './types';
import { makeUserData } from './userData';

// Everything that changes the order's bindings at the provider: the first bind (AX, then each YB), B
// parties added, replaced or removed, and the final unbind. Each runs under the order's FIFO lock, so no
// two overlap in any interleaving, and each checks under the lock that the order may still change: a
// release or the expiry, once decided, wins over every change queued behind it.

/** B parties per AX (the provider's query lists at most 5 relations). */
export const MAX_PARTIES = 5;

function failureMessage(err: unknown): string {
  const cause = err instanceof ActivityFailure && err.cause ? err.cause : err;
  return cause instanceof Error ? cause.message : String(cause);
}

/** A provider's definite "no": nothing was bound. */
function isDefiniteRejection(err: unknown): boolean {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.nonRetryable === true;
}

function bindY(order: Order, number: string) {
  const req = order.request;
  return binds.bindYb({
    subscriptionId: order.record.subscriptionId!,
    partyB: number,
    areaCode: req.areaCode,
    areaMatchMode: req.areaMatchMode,
    ...(req.preVoiceY ? { preVoiceY: req.preVoiceY } : {}),
  });
}

/**
 * AX, then one YB per party; stops early when a release arrives (the lifecycle then unbinds). A failed
 * YB runs the saga: the whole AX goes. A bind whose answer was lost is simply bound again by its
 * activity's retry: the possible orphan carries this order's userData and another subscription id, and
 * reconciliation unbinds it (the provider-side duration bounds it meanwhile).
 */
export function bindAll(order: Order): Promise<void> {
  return order.lock.run(async () => {
    const req = order.request;
    const record = order.record;
    const userData = makeUserData(req.orderId, uuid4().replace(/-/g, '').slice(0, 12));
    try {
      const ax = await binds.bindAx({
        orderId: req.orderId,
        userData,
        partyA: req.partyA,
        areaCode: req.areaCode,
        areaMatchMode: req.areaMatchMode,
        callDirection: req.callDirection,
        durationSeconds: providerDurationSeconds(req),
        record: req.record,
        ...(req.recordHintTone ? { recordHintTone: req.recordHintTone } : {}),
        ...(req.preVoiceX ? { preVoiceX: req.preVoiceX } : {}),
      });
      record.subscriptionId = ax.subscriptionId;
      record.numberX = ax.numberX;
      order.publishProgress();
    } catch (err) {
      return order.fail(`binding X for party A failed: ${failureMessage(err)}`);
    }
    for (const party of record.parties) {
      if (order.ending) return; // a release during binding wins: no further YB
      try {
        party.numberY = (await bindY(order, party.number)).numberY;
        order.publishProgress();
      } catch (err) {
        try {
          await cleanup.unbind({ subscriptionId: record.subscriptionId! });
        } catch {
          // Permanent provider error: the provider-side duration ends the AX.
        }
        return order.fail(`binding Y for party "${party.label}" failed: ${failureMessage(err)}`);
      }
    }
    if (order.ending) return;
    order.setState('bound');
    order.notify('binding.bound');
  });
}

/** The rules of a party change against the binding as it is now (validators and, again, under the lock). */
export function checkSetParty(order: Order, req: { label: string; number: string }): void {
  order.assertChangeable();
  const r = PartySchema.safeParse(req);
  if (!r.success) throw rejected(r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  const parties = order.record.parties;
  if (req.number === order.request.partyA) throw rejected('number: must differ from partyA');
  if (parties.some((p) => p.label !== req.label && p.number === req.number))
    throw rejected('number: already bound for another label');
  if (!parties.some((p) => p.label === req.label) && parties.length >= MAX_PARTIES)
    throw rejected(`at most ${MAX_PARTIES} B parties per binding`);
}

export function checkRemoveParty(order: Order, label: string): void {
  order.assertChangeable();
  if (!order.record.parties.some((p) => p.label === label)) throw rejected(`no party with label "${label}"`);
}

/** Adds a B party or replaces its number: unbind the old YB (AXYB has no update), bind the new one. A keeps X. */
export function setParty(order: Order, req: { label: string; number: string }) {
  return order.lock.run(async () => {
    checkSetParty(order, req);
    const { label, number } = req;
    const record = order.record;
    const existing = record.parties.find((p) => p.label === label);
    if (existing?.number === number && existing.numberY) return order.view();
    if (existing?.numberY) {
      try {
        await cleanup.unbind({ subscriptionId: record.subscriptionId!, numberY: existing.numberY });
      } catch (err) {
        throw refusal(FailureType.partyUnbindFailed, `unbinding Y of party "${label}" failed: ${failureMessage(err)}`);
      }
    }
    record.parties = record.parties.filter((p) => p.label !== label);
    order.publish();
    try {
      const yb = await bindY(order, number);
      record.parties.push({ label, number, numberY: yb.numberY });
      order.publish();
      return order.view();
    } catch (err) {
      // The bind may have landed despite the error: remove this B's YB, if any, before reporting.
      if (!isDefiniteRejection(err)) await cleanup.unbind({ subscriptionId: record.subscriptionId!, partyB: number });
      throw refusal(FailureType.partyBindFailed, `binding Y for party "${label}" failed: ${failureMessage(err)}`, {
        label,
      });
    }
  });
}

export function removeParty(order: Order, label: string) {
  return order.lock.run(async () => {
    order.assertChangeable();
    const record = order.record;
    const party = record.parties.find((p) => p.label === label);
    if (!party) return order.view(); // removed by a request just before this one: done
    if (party.numberY) {
      try {
        await cleanup.unbind({ subscriptionId: record.subscriptionId!, numberY: party.numberY });
      } catch (err) {
        throw refusal(FailureType.partyUnbindFailed, `unbinding Y of party "${label}" failed: ${failureMessage(err)}`);
      }
    }
    record.parties = record.parties.filter((p) => p !== party);
    order.publish();
    return order.view();
  });
}

/** The end: unbind the AX with every YB under it (already gone counts as done), then the final state. */
export function unbindAll(order: Order, end: Ending): Promise<void> {
  return order.lock.run(async () => {
    const record = order.record;
    if (record.subscriptionId) {
      try {
        await cleanup.unbind({ subscriptionId: record.subscriptionId });
      } catch (err) {
        // Only a permanent provider error gets here; the provider's own duration still ends it.
        record.failureReason = `unbind failed: ${failureMessage(err)}`;
      }
    }
    record.endedAtMs = Date.now();
    order.setState(end);
    order.notify(end === 'expired' ? 'binding.expired' : 'binding.released', {
      ...(order.releaseReason ? { reason: order.releaseReason } : {}),
    });
  });
}
