import { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporalBinaries } from '../../lib/binaries';

/** A time-skipping environment on the provisioned test server; each test file gets its own. */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const { testServer } = temporalBinaries();
  return TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: testServer } },
  });
}
