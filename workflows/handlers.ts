import { condition, log, setHandler } from '@temporalio/workflow';
import { guarded, rejected } from './failures';
import * as msg from './messages';
import type { Order } from './order';
import { checkRemoveParty, checkSetParty, removeParty, setParty } from './partyChanges';
import { extensionRemainingSeconds, isTerminal } from './state';

// The order's messages. Validators refuse what cannot apply (the caller gets an error, nothing enters the
// history); handler bodies run inside `guarded`, so whatever goes wrong fails the update, never the
// workflow task.

export function registerHandlers(order: Order): void {
  setHandler(msg.getBinding, () => order.view());
  setHandler(msg.getRequest, () => order.record.originalInput);

  setHandler(
    msg.awaitBound,
    (timeoutMs: number, options?: msg.AwaitBoundOptions) =>
      guarded(async () => {
        const bindingOver = () => order.state !== 'binding';
        // The caller's own deadline: no timer here (see AwaitBoundOptions); no patience at all answers at once.
        if (options?.clientDeadline === true) {
          if (timeoutMs > 0) await condition(bindingOver);
        } else await condition(bindingOver, timeoutMs);
        return order.view();
      }),
    {
      validator: (timeoutMs: number, _options?: msg.AwaitBoundOptions) => {
        if (!Number.isInteger(timeoutMs) || timeoutMs < 0 || timeoutMs > 600_000)
          throw rejected('timeoutMs must be an integer from 0 to 600000');
      },
    },
  );

  setHandler(
    msg.extend,
    (req) =>
      guarded(() => {
        order.record.expiresAtMs = newExpiry(order, req);
        order.publish();
        return order.view();
      }),
    { validator: (req) => void newExpiry(order, req) },
  );

  setHandler(msg.setParty, (req) => guarded(() => setParty(order, req)), {
    validator: (req) => checkSetParty(order, req),
  });

  setHandler(msg.removeParty, ({ label }) => guarded(() => removeParty(order, label)), {
    validator: (req) => checkRemoveParty(order, req?.label),
  });

  setHandler(
    msg.release,
    ({ reason }) =>
      guarded(async () => {
        order.requestRelease(reason);
        if (!isTerminal(order.state)) await condition(() => isTerminal(order.state));
        return order.view();
      }),
    {
      validator: (req) => {
        if (req?.reason !== undefined && (typeof req.reason !== 'string' || req.reason.length > 200))
          throw rejected('reason must be a string of at most 200 characters');
      },
    },
  );

  // Synchronous: it awaits nothing. The recording fetches and notifications it starts run under the order's
  // lifecycle scope (Order's constructor), out of a workflow cancellation request's reach. No scope of its own:
  // that was five promises per signal, each paying the SDK's stack-trace hook.
  setHandler(msg.providerEvents, (events) => {
    try {
      order.onProviderEvents(events);
    } catch (err) {
      // A signal handler that throws fails the workflow task: log and drop this batch instead.
      log.error('provider events not applied', { error: (err as Error)?.message });
    }
  });
}

/** The expiry an extension asks for; throws (refusing it) when not allowed. */
function newExpiry(order: Order, req: msg.ExtendRequest): number {
  order.assertChangeable();
  const record = order.record;
  let target: number;
  if (req && 'durationSeconds' in req) {
    if (!Number.isInteger(req.durationSeconds) || req.durationSeconds <= 0)
      throw rejected('durationSeconds must be a positive integer');
    target = record.expiresAtMs + req.durationSeconds * 1000;
  } else if (req && 'expiresAt' in req && typeof req.expiresAt === 'string') {
    target = Date.parse(req.expiresAt);
    if (!Number.isFinite(target)) throw rejected('expiresAt must be an ISO 8601 date-time');
    if (target <= record.expiresAtMs)
      throw rejected(`expiresAt must be later than the current expiry ${new Date(record.expiresAtMs).toISOString()}`);
  } else {
    throw rejected('give either durationSeconds or expiresAt');
  }
  const added = Math.ceil((target - record.expiresAtMs) / 1000);
  const room = extensionRemainingSeconds(record);
  if (added > room) {
    const latest = new Date(record.baseExpiresAtMs + record.maxExtensionSeconds * 1000).toISOString();
    throw rejected(
      `extension of ${added} s exceeds maxExtensionSeconds (${record.maxExtensionSeconds} s in total): ` +
        `at most ${room} s more, i.e. until ${latest}`,
    );
  }
  return target;
}
