import { createHmac } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { request } from 'undici';
import type { Logger } from '../lib/log';
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
  onDelivered?: (outcome: 'delivered' | 'rejected' | 'failed') => void;
}

export function notifyActivities(deps: NotifyDeps): Pick<BindflowActivities, 'notify'> {
  const timeoutMs = deps.timeoutMs ?? 10_000;
  let warned = false;
  return {
    async notify({ url, eventId, body }) {
      const json = JSON.stringify(body);
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
        });
        status = res.statusCode;
        await res.body.dump();
      } catch (err) {
        deps.onDelivered?.('failed');
        throw ApplicationFailure.retryable(`notification not delivered: ${(err as Error).message}`, 'NotifyNetwork');
      }
      if (status >= 200 && status < 300) {
        deps.onDelivered?.('delivered');
        return;
      }
      const permanent = status >= 400 && status < 500 && status !== 408 && status !== 429;
      deps.onDelivered?.(permanent ? 'rejected' : 'failed');
      throw ApplicationFailure.create({
        message: `notification answered HTTP ${status}`,
        type: 'NotifyHttp',
        nonRetryable: permanent,
      });
    },
  };
}
