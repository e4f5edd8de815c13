// A worker process for the kill-mid-bind test: its AX bind reaches the provider, then the process
// announces COMMITTED and never answers, so the test can SIGKILL it with the bind committed and unreported.
import { NativeConnection } from '@temporalio/worker';
import { PrivateNumberClient } from '../../provider';
import { createBindflowWorker } from '../../worker/createWorker';
import { createLogger } from '../../lib/log';

async function main(): Promise<void> {
  const env = JSON.parse(process.env.BINDFLOW_KILLABLE_WORKER ?? '{}') as {
    address: string;
    taskQueue: string;
    provider: { baseUrl: string; appKey: string; appSecret: string };
    numberPool: string[];
  };
  const real = new PrivateNumberClient(env.provider);
  const providerClient = {
    bindAx: async (req: Parameters<PrivateNumberClient['bindAx']>[0]) => {
      await real.bindAx(req);
      process.stdout.write('COMMITTED\n');
      return new Promise<never>(() => undefined);
    },
    bindYb: real.bindYb.bind(real),
    unbind: real.unbind.bind(real),
    query: real.query.bind(real),
    recordingUrl: real.recordingUrl.bind(real),
  };
  const connection = await NativeConnection.connect({ address: env.address });
  const worker = await createBindflowWorker({
    connection,
    namespace: 'default',
    taskQueue: env.taskQueue,
    provider: env.provider,
    providerClient,
    numberPool: env.numberPool,
    log: createLogger('killable-worker', {}, () => undefined),
  });
  process.stdout.write('READY\n');
  await worker.run();
}

main().catch((err) => {
  process.stderr.write(String(err) + '\n');
  process.exit(1);
});
