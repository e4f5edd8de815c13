import { ApplicationFailure } from '@temporalio/common';
import { OrderIdSchema } from './types';

// The `userData` carried by each binding, echoed back by the provider in every push:
// `bf1:<orderId>:<bindToken>`. Short (≤ 170 chars), no party number. The token is unique per bind
// invocation so that a bind whose response was lost can be recognised (and adopted or unbound).

const PREFIX = 'bf1';
const TOKEN_RE = /^[a-z0-9]{1,32}$/;
const USER_DATA_RE = /^bf1:([A-Za-z0-9][A-Za-z0-9._-]{0,127}):([a-z0-9]{1,32})$/;

export function makeUserData(orderId: string, bindToken: string): string {
  // ApplicationFailures: in workflow code a plain Error here would fail the workflow task, not the run.
  if (!OrderIdSchema.safeParse(orderId).success)
    throw ApplicationFailure.nonRetryable('orderId: must be 1-128 letters, digits, ".", "_" or "-"', 'InvalidInput');
  if (!TOKEN_RE.test(bindToken))
    throw ApplicationFailure.nonRetryable('bindToken must be 1-32 lowercase letters or digits', 'InvalidInput');
  return `${PREFIX}:${orderId}:${bindToken}`;
}

/** The order a push belongs to, or null when the userData is not bindflow's. */
export function orderIdFromUserData(userData: string | null | undefined): string | null {
  const m = userData ? USER_DATA_RE.exec(userData) : null;
  return m ? m[1] : null;
}

export function workflowIdForOrder(orderId: string): string {
  return `binding-${orderId}`;
}
