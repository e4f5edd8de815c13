import { createHmac } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { Agent, request } from 'undici';
import type { Logger } from '../lib/log';
import {
  CallbackTargetError,
  checkCallbackUrl,
  guardedLookup,
  type AllLookup,
  type CallbackTargetPolicy,
  type Resolver,
} from '../lib/callbackTargets';
import { maskNumber } from '../provider/mask';
import type { BindflowActivities } from './types';

// Notifications to the order's userCallbackUrl: JSON, signed with HMAC-SHA256 so the receiver can
// verify it came from bindflow. Retries come from the workflow's retry policy; a 4xx other than
// 408/429 will not get better and fails at once.

export const SIGNATURE_HEADER = 'x-bindflow-signature';
export const TIMESTAMP_HEADER = 'x-bindflow-timestamp';
export const EVENT_ID_HEADER = 'x-bindflow-event-id';

/** `sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`: the timestamp is signed against replays. */
export function signNotification(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export interface NotifyDeps {
  callbackSecret?: string;
  log: Logger;
  timeoutMs?: number;
  /** Each attempt's outcome, with the notification's type (from its body). */
  onDelivered?: (type: unknown, outcome: 'delivered' | 'rejected' | 'failed') => void;
  /** Which non-public targets are allowed (BINDFLOW_CALLBACK_ALLOW_HOSTS). Default: none. */
  targets?: CallbackTargetPolicy;
  /** Party numbers in bodies (BINDFLOW_CALLBACK_NUMBERS). Default `masked`. */
  numbers?: 'masked' | 'full';
  /**
   * Without a callbackSecret: send unsigned (true, the library's default) or hold every notification, retrying,
   * until the worker has a secret (false: `bindflow worker` unless BINDFLOW_CALLBACK_UNSIGNED=1).
   */
  allowUnsigned?: boolean;
  /** Tests: the resolver of the check before sending, and the lookup the socket connects with. */
  resolve?: Resolver;
  lookup?: AllLookup;
}

/** The deployment's callback rules (BINDFLOW_CALLBACK_ALLOW_HOSTS, _NUMBERS, _UNSIGNED). */
export type CallbackDelivery = Pick<NotifyDeps, 'targets' | 'numbers' | 'allowUnsigned'>;

/** Keys whose values are the parties' real numbers (privacy numbers X and Y stay as they are). */
const PARTY_NUMBER_KEYS = new Set(['partyA', 'partyB', 'number']);

/** The body with every real party number masked (`+86138****0002`), at any depth. */
export function maskPartyNumbers(value: unknown, depth = 0): unknown {
  if (depth > 16 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => maskPartyNumbers(v, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k,
      PARTY_NUMBER_KEYS.has(k) && typeof v === 'string' ? maskNumber(v) : maskPartyNumbers(v, depth + 1),
    ]),
  );
}

export function notifyActivities(deps: NotifyDeps): Pick<BindflowActivities, 'notify'> {
  const timeoutMs = deps.timeoutMs ?? 10_000;
  const targets: CallbackTargetPolicy = deps.targets ?? { allowHosts: new Set() };
  // Every connection's address is checked as the socket opens it (a name re-resolved since the check below).
  const dispatcher = new Agent({ connect: { lookup: guardedLookup(targets, deps.lookup) } });
  let warned = false;
  return {
    async notify({ url, eventId, body }) {
      const outcome = (o: 'delivered' | 'rejected' | 'failed') => deps.onDelivered?.(body.type, o);
      if (!deps.callbackSecret && deps.allowUnsigned === false) {
        outcome('failed');
        // Held, not dropped: delivered once the worker has its secret (retried for up to a day).
        throw ApplicationFailure.retryable(
          'notification held: BINDFLOW_CALLBACK_SECRET is not set on this worker (set it, or BINDFLOW_CALLBACK_UNSIGNED=1)',
          'NotifyUnsigned',
        );
      }
      const target = await checkCallbackUrl(url, targets, { resolve: deps.resolve, timeoutMs });
      if (target.ok === false) {
        outcome('rejected');
        deps.log.warn('notification refused: callback target not allowed', { eventId, reason: target.reason });
        throw ApplicationFailure.create({
          message: `notification refused: userCallbackUrl ${target.reason}`,
          type: 'NotifyTargetRefused',
          nonRetryable: true,
        });
      }
      const json = JSON.stringify(deps.numbers === 'full' ? body : maskPartyNumbers(body));
      const timestamp = String(Math.floor(Date.now() / 1000));
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        [EVENT_ID_HEADER]: eventId,
        [TIMESTAMP_HEADER]: timestamp,
      };
      if (deps.callbackSecret) headers[SIGNATURE_HEADER] = signNotification(deps.callbackSecret, timestamp, json);
      else if (!warned) {
        warned = true;
        deps.log.warn('BINDFLOW_CALLBACK_SECRET is not set: notifications are sent unsigned');
      }
      let status: number;
      try {
        const res = await request(url, {
          method: 'POST',
          headers,
          body: json,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
          signal: AbortSignal.timeout(timeoutMs),
          dispatcher,
        });
        status = res.statusCode;
        await res.body.dump();
      } catch (err) {
        const refused = findTargetError(err);
        if (refused) {
          outcome('rejected');
          deps.log.warn('notification refused: callback target not allowed', { eventId, reason: refused.message });
          throw ApplicationFailure.create({
            message: `notification refused: userCallbackUrl ${refused.message}`,
            type: 'NotifyTargetRefused',
            nonRetryable: true,
          });
        }
        outcome('failed');
        throw ApplicationFailure.retryable(`notification not delivered: ${(err as Error).message}`, 'NotifyNetwork');
      }
      if (status >= 200 && status < 300) {
        outcome('delivered');
        return;
      }
      const permanent = status >= 400 && status < 500 && status !== 408 && status !== 429;
      outcome(permanent ? 'rejected' : 'failed');
      throw ApplicationFailure.create({
        message: `notification answered HTTP ${status}`,
        type: 'NotifyHttp',
        nonRetryable: permanent,
      });
    },
  };
}

/** The connection-time refusal, however undici wrapped it. */
function findTargetError(err: unknown): CallbackTargetError | undefined {
  for (let e = err, i = 0; e && i < 5; e = (e as { cause?: unknown }).cause, i++)
    if (e instanceof CallbackTargetError || (e as { code?: unknown }).code === 'ECALLBACKTARGET')
      return e as CallbackTargetError;
  return undefined;
}
