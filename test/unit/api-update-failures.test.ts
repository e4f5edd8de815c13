import { ApplicationFailure, WorkflowUpdateFailedError } from '@temporalio/client';
import { preferWaitMs } from '../../client/api';
import { BindflowError } from '../../client/errors';
import { toBindflowError, updateFailureToBindflowError } from '../../client/library';

// The order workflow's update failures (ApplicationFailure types) → the API's codes and statuses.

const failed = (type: string | undefined, details?: unknown[]) =>
  new WorkflowUpdateFailedError(
    'Workflow Update failed',
    ApplicationFailure.create({ type, message: `because ${type}`, nonRetryable: true, details }),
  );

describe('update failures → typed errors', () => {
  test.each([
    ['BINDING_RELEASING', 409, { ending: 'expired' }],
    ['BINDING_CLOSED', 409, { state: 'released' }],
    ['PARTY_BIND_FAILED', 422, { label: 'driver' }],
    ['REQUEST_REJECTED', 422, { field: 'durationSeconds' }],
  ])('%s → %i, its first details object as details', (type, status, details) => {
    const e = toBindflowError(failed(type, [details, { ignored: true }]));
    expect(e).toBeInstanceOf(BindflowError);
    expect(e.toJSON()).toEqual({ error: { code: type, message: `because ${type}`, details } });
    expect(e.status).toBe(status);
  });

  test('a known type without details has no details', () => {
    expect(updateFailureToBindflowError(failed('BINDING_CLOSED')).toJSON()).toEqual({
      error: { code: 'BINDING_CLOSED', message: 'because BINDING_CLOSED' },
    });
  });

  test('any other type → 422 REQUEST_REJECTED with details.reason = the type, merged with its details', () => {
    const e = updateFailureToBindflowError(failed('SomethingNew', [{ hint: 'x' }]));
    expect([e.status, e.code, e.details]).toEqual([422, 'REQUEST_REJECTED', { hint: 'x', reason: 'SomethingNew' }]);
    // A validator's plain Error arrives as type "Error": still a rejection, as before.
    expect(updateFailureToBindflowError(failed('Error')).details).toEqual({ reason: 'Error' });
  });

  test("the workflow's own defect (INTERNAL_ERROR) is a 500, not the caller's fault", () => {
    const e = updateFailureToBindflowError(failed('INTERNAL_ERROR'));
    expect([e.status, e.code, e.details]).toEqual([500, 'INTERNAL', { reason: 'INTERNAL_ERROR' }]);
  });

  test('a type named like an Object.prototype member is not mistaken for a known one', () => {
    expect(updateFailureToBindflowError(failed('toString')).code).toBe('REQUEST_REJECTED');
  });

  test('details that are not an object are left out', () => {
    expect(updateFailureToBindflowError(failed('PARTY_BIND_FAILED', ['text', 1])).details).toBeUndefined();
    expect(updateFailureToBindflowError(failed('PARTY_BIND_FAILED', [[1, 2]])).details).toBeUndefined();
  });
});

describe('Prefer: wait=N', () => {
  test.each([
    ['wait=5', 5000],
    ['respond-async, wait=12', 12_000],
    ['wait=0', 1000],
    ['wait=3600', 60_000],
    ['WAIT = "7"', 7000],
    ['handling=lenient; wait=2', 2000],
  ])('%s → %i ms', (header, ms) => expect(preferWaitMs(header)).toBe(ms));

  test.each([[undefined], [''], ['wait=abc'], ['wait=-3'], ['waitx=3'], ['nowait=3'], ['wait=3.5']])(
    '%p is ignored',
    (header) => expect(preferWaitMs(header)).toBeUndefined(),
  );

  test('a repeated header is read as one list', () => {
    expect(preferWaitMs(['respond-async', 'wait=4'])).toBe(4000);
  });
});
