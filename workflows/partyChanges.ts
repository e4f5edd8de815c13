import { ActivityFailure, ApplicationFailure, patched, uuid4 } from '@temporalio/workflow';
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

function ybOptions(order: Order) {
  const req = order.request;
  return {
    areaCode: req.areaCode,
    areaMatchMode: req.areaMatchMode,
    ...(req.preVoiceY ? { preVoiceY: req.preVoiceY } : {}),
  };
}

/** `lookUpFirst`: an earlier call for this B may have bound it and lost its answer. */
function bindY(order: Order, number: string, lookUpFirst = false) {
  return binds.bindYb({
    subscriptionId: order.record.subscriptionId!,
    partyB: number,
    ...ybOptions(order),
    ...(lookUpFirst ? { lookUpFirst } : {}),
  });
}

/** Runs that reach their first bind with this marker bind the AX and every YB in one activity (`bindAxYb`). */
export const ONE_ACTIVITY_BIND_PATCH = 'bindflow-bind-axyb-in-one-activity';

/**
 * AX, then one YB per party. A failed YB runs the saga: the whole AX goes. A bind whose answer was lost is
 * simply bound again by its activity's retry: the possible orphan carries this order's userData and another
 * subscription id, and reconciliation unbinds it (the provider-side duration bounds it meanwhile).
 *
 * Since ONE_ACTIVITY_BIND_PATCH, all in one activity (one billable action and one workflow task instead of one
 * per party and one more): a release arriving meanwhile waits for the whole bind, then the lifecycle unbinds it.
 * Only a YB failure brings back the single steps: a definite refusal runs the saga at once; anything else
 * retries that party alone (`bindYb`, looking up first, as its answer may have been lost) and binds the rest.
 * Runs whose first bind predates the marker replay their steps one by one and stop early on a release.
 */
export function bindAll(order: Order): Promise<void> {
  return order.lock.run(async () => {
    const req = order.request;
    const record = order.record;
    const userData = makeUserData(req.orderId, uuid4().replace(/-/g, '').slice(0, 12));
    const ax = {
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
    };
    let uncertain: string | null = null;
    if (patched(ONE_ACTIVITY_BIND_PATCH)) {
      let r;
      try {
        r = await binds.bindAxYb({
          ax,
          parties: record.parties.map((p) => ({ label: p.label, partyB: p.number })),
          yb: ybOptions(order),
        });
      } catch (err) {
        return order.fail(`binding X for party A failed: ${failureMessage(err)}`);
      }
      record.subscriptionId = r.subscriptionId;
      record.numberX = r.numberX;
      for (const { label, numberY } of r.parties) {
        const party = record.parties.find((p) => p.label === label);
        if (party) party.numberY = numberY;
      }
      order.publishProgress();
      if (r.stopped?.definite) return ybSaga(order, r.stopped.label, r.stopped.message);
      uncertain = r.stopped?.label ?? null;
    } else {
      try {
        const bound = await binds.bindAx(ax);
        record.subscriptionId = bound.subscriptionId;
        record.numberX = bound.numberX;
        order.publishProgress();
      } catch (err) {
        return order.fail(`binding X for party A failed: ${failureMessage(err)}`);
      }
    }
    for (const party of record.parties) {
      if (party.numberY) continue; // bound with the AX
      if (order.ending) return; // a release during binding wins: no further YB
      try {
        party.numberY = (await bindY(order, party.number, party.label === uncertain)).numberY;
        order.publishProgress();
      } catch (err) {
        return ybSaga(order, party.label, failureMessage(err));
      }
    }
    if (order.ending) return;
    order.setState('bound');
    order.notify('binding.bound');
  });
}

/** A YB of the first bind failed for good: the whole AX goes, and the order fails. */
async function ybSaga(order: Order, label: string, message: string): Promise<void> {
  try {
    await cleanup.unbind({ subscriptionId: order.record.subscriptionId! });
  } catch {
    // Permanent provider error: the provider-side duration ends the AX.
  }
  order.fail(`binding Y for party "${label}" failed: ${message}`);
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
