import { NamespaceNotFoundError, WorkflowNotFoundError } from '@temporalio/common';
import { toBindflowError } from '../../client/library';

describe('Temporal errors → bindflow errors', () => {
  test('"namespace not found" (what temporal-server answers while its database is down) is an outage, not a 404', () => {
    const e = toBindflowError(new NamespaceNotFoundError('default'), 'o-1');
    expect(e.code).toBe('TEMPORAL_UNAVAILABLE');
    expect(e.message).toMatch(/retry/);
  });

  test('a missing workflow is still NOT_FOUND', () => {
    expect(toBindflowError(new WorkflowNotFoundError('no such workflow', 'binding-o-1', undefined), 'o-1').code).toBe(
      'NOT_FOUND',
    );
  });
});
