import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { createLogger } from '../../lib/log';
import { freePort } from '../../lib/ports';
import { startSimulator, type Simulator } from '../../simulator';
import { orderBinding } from '../../workflows';
import * as msg from '../../workflows/messages';
import { connectDevServer, devServerAddress, uniqueTaskQueue } from '../helpers/devServer';

// `npx bindflow worker` with OTEL_EXPORTER_OTLP_ENDPOINT set exports its spans with the standard OTLP
// exporter (HTTP/protobuf to <endpoint>/v1/traces), masked: the bytes on the wire hold no party number.

const A = '+8613800000051';
const B = '+8613800000052';

let client: Client;
let close: () => Promise<void>;
let sim: Simulator;
let child: ChildProcess | undefined;
let collector: http.Server;
const received: { path: string; contentType: string; body: Buffer }[] = [];
let stderr = '';

beforeAll(async () => {
  const c = await connectDevServer();
  client = c.client;
  close = async () => {
    await c.nativeConnection.close();
    await c.connection.close();
  };
  sim = await startSimulator({ port: 0, logger: createLogger('sim', {}, () => undefined) });
  // A stand-in OTLP collector: records each export and answers as a collector does.
  collector = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        path: req.url ?? '',
        contentType: req.headers['content-type'] ?? '',
        body: Buffer.concat(chunks),
      });
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((r) => collector.listen(0, '127.0.0.1', () => r()));
});

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await new Promise<void>((r) => collector?.close(() => r()));
  await sim?.close();
  await close?.();
});

test('a worker with OTEL_EXPORTER_OTLP_ENDPOINT exports masked spans of the order over OTLP/protobuf', async () => {
  const taskQueue = uniqueTaskQueue('otlp');
  const root = path.join(__dirname, '..', '..');
  child = spawn(
    process.execPath,
    ['-r', 'tsx/cjs', '-e', "require('./worker/run').runWorker().catch((e) => { console.error(e); process.exit(1); })"],
    {
      cwd: root,
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: devServerAddress(),
        TEMPORAL_TASK_QUEUE: taskQueue,
        PRIVATENUMBER_BASE_URL: sim.url,
        BINDFLOW_METRICS_PORT: String(await freePort()),
        BINDFLOW_RECONCILE_INTERVAL: 'off',
        BINDFLOW_CALLBACK_UNSIGNED: '1',
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}`,
        OTEL_SERVICE_NAME: 'bindflow-worker-under-test',
        OTEL_BSP_SCHEDULE_DELAY: '200',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const deadline = Date.now() + 90_000;
  while (!stderr.includes('worker started')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`worker did not start:\n${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }

  const orderId = `otlp-${process.pid}-${Date.now().toString(36)}`;
  const handle = await client.workflow.start(orderBinding, {
    taskQueue,
    workflowId: `binding-${orderId}`,
    args: [{ orderId, partyA: A, parties: [{ label: 'b', number: B }], areaCode: '021', durationSeconds: 600 }],
  });
  await handle.executeUpdate(msg.awaitBound, { args: [30_000] });
  await handle.executeUpdate(msg.release, { args: [{}] });

  // The activities' and provider calls' spans, exported in batches (OTEL_BSP_SCHEDULE_DELAY).
  const all = () => Buffer.concat(received.map((r) => r.body)).toString('latin1');
  while (!(all().includes('provider bindAx') && all().includes('RunActivity:unbind'))) {
    if (Date.now() > deadline) throw new Error(`no spans exported; received ${received.length} requests`);
    await new Promise((r) => setTimeout(r, 200));
  }
  expect(received.every((r) => r.path === '/v1/traces')).toBe(true);
  expect(received.every((r) => r.contentType === 'application/x-protobuf')).toBe(true);
  const wire = all();
  expect(wire).toContain('bindflow-worker-under-test'); // OTEL_SERVICE_NAME, a standard variable
  expect(wire).toContain(`binding-${orderId}`); // temporalWorkflowId: how an order's traces are found
  expect(wire).not.toContain(A.slice(3));
  expect(wire).not.toContain(B.slice(3));

  child.kill('SIGTERM');
  expect(await new Promise<number | null>((resolve) => child!.once('exit', (c) => resolve(c)))).toBe(0);
}, 180_000);
