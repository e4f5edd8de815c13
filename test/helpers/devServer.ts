import { Connection, Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';

/** Address of the run's dev server, started by test/setup/integrationSetup.ts. */
export function devServerAddress(): string {
  const address = process.env.BINDFLOW_TEST_TEMPORAL_ADDRESS;
  if (!address)
    throw new Error('BINDFLOW_TEST_TEMPORAL_ADDRESS is not set: run integration tests through jest (global setup)');
  return address;
}

export async function connectDevServer(): Promise<{
  client: Client;
  connection: Connection;
  nativeConnection: NativeConnection;
}> {
  const address = devServerAddress();
  const connection = await Connection.connect({ address });
  const nativeConnection = await NativeConnection.connect({ address });
  return { client: new Client({ connection }), connection, nativeConnection };
}

export function uniqueTaskQueue(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
