import { Client, Connection, ConnectionOptions, type WorkflowClientInterceptor } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import type { Env } from '../lib/config';
import { readPem } from '../lib/pem';

/** Connection options for the dev server, a self-hosted cluster (mTLS) or Temporal Cloud (API key). */
export function temporalConnectionOptions(env: Env): ConnectionOptions {
  const opts: ConnectionOptions = {
    address: env.TEMPORAL_ADDRESS,
    // After an outage, reconnect within ~2 s rather than grpc's default backoff (up to 2 min): the
    // webhook answers 503 while disconnected, and the platform's pushes should land again soon.
    channelArgs: { 'grpc.initial_reconnect_backoff_ms': 250, 'grpc.max_reconnect_backoff_ms': 2000 },
  };
  if (env.TEMPORAL_TLS_CERT && env.TEMPORAL_TLS_KEY) {
    opts.tls = {
      clientCertPair: { crt: readPem(env.TEMPORAL_TLS_CERT), key: readPem(env.TEMPORAL_TLS_KEY) },
    };
  }
  if (env.TEMPORAL_API_KEY) {
    opts.apiKey = env.TEMPORAL_API_KEY;
    opts.tls = opts.tls ?? true;
  }
  return opts;
}

export async function connectTemporal(
  env: Env,
  dataConverter?: DataConverter,
  /** Workflow client interceptors, e.g. tracing's (lib/tracing). */
  interceptors?: WorkflowClientInterceptor[],
): Promise<{ connection: Connection; client: Client }> {
  const connection = await Connection.connect(temporalConnectionOptions(env));
  const client = new Client({
    connection,
    namespace: env.TEMPORAL_NAMESPACE,
    dataConverter,
    ...(interceptors?.length ? { interceptors: { workflow: interceptors } } : {}),
  });
  return { connection, client };
}
