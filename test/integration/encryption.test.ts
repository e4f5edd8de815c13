import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';
import { temporalBinaries } from '../../lib/binaries';
import { ENCODING } from '../../lib/codec';
import { artifactPath } from '../helpers/browser';
import { devServerAddress, uniqueTaskQueue } from '../helpers/devServer';
import { collectWirePayloads, findInClear, type WirePayload } from '../fixtures/webui/clearText';
import { callApi, startEncryptedStack, type Stack } from '../fixtures/webui/stack';

// With BINDFLOW_PAYLOAD_KEY set, what Temporal stores (and what anyone with access to its database,
// its CLI or its Web UI without the codec sees) holds no party number; the codec server, for a
// caller with the API token, gives them back.

const run = promisify(execFile);

const PARTY_A = '+8613977770001';
const PARTY_B = '+8613977770002';
const PARTY_B2 = '+8613977770003'; // the reassigned driver
const PARTIES = [PARTY_A, PARTY_B, PARTY_B2];

let stack: Stack;
let numberX: string;
let numberY: string;
const orderId = `enc-${Date.now().toString(36)}`;
const workflowId = `binding-${orderId}`;

/** The stored history as the `temporal` CLI prints it: with no codec, or through the codec server. */
async function historyFromCli(codec?: { endpoint: string; auth: string }): Promise<unknown> {
  const args = ['workflow', 'show', '--workflow-id', workflowId, '--address', devServerAddress()];
  args.push('--namespace', 'default', '--output', 'json');
  if (codec) args.push('--codec-endpoint', codec.endpoint, '--codec-auth', codec.auth);
  const { stdout } = await run(temporalBinaries().cli, args, {
    maxBuffer: 64 * 1024 * 1024,
    // The CLI also reads its codec from the environment and its config file: neither may apply here.
    env: { ...process.env, TEMPORAL_CODEC_ENDPOINT: '', TEMPORAL_CODEC_AUTH: '', TEMPORAL_CONFIG_FILE: '/dev/null' },
  });
  return JSON.parse(stdout);
}

function api(method: 'GET' | 'PUT' | 'POST' | 'DELETE', path: string, body?: unknown) {
  return callApi(stack, method, path, body);
}

async function codecDecode(payloads: WirePayload[], headers: Record<string, string>) {
  const res = await fetch(`${stack.apiUrl}/codec/decode`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers },
    body: JSON.stringify({ payloads }),
  });
  return { status: res.status, json: (await res.json()) as { payloads?: WirePayload[] } };
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  // BINDFLOW_BIND_WAIT=history: the run also writes its bound view memo, which must stay free of party numbers.
  stack = await startEncryptedStack({
    temporalAddress: devServerAddress(),
    taskQueue: uniqueTaskQueue('encryption'),
    bindWait: 'history',
  });
  // A whole life: bind, reassign the driver (update payloads), a call (provider pushes become signals),
  // extend, release (the result).
  const bound = await api('PUT', `/v1/orders/${orderId}/binding`, {
    partyA: PARTY_A,
    partyB: PARTY_B,
    areaCode: '0755',
    durationSeconds: 3600,
  });
  expect(bound.status).toBe(201);
  numberX = bound.json.numberX as string;
  const reassigned = await api('PUT', `/v1/orders/${orderId}/binding/parties/b`, { number: PARTY_B2 });
  expect(reassigned.status).toBe(200);
  numberY = (reassigned.json.parties as Array<{ numberY: string }>)[0].numberY;
  const call = stack.sim.call({ from: PARTY_B2, to: numberX, answer: true, talkSeconds: 7 });
  expect(call.connectedTo).toBe(PARTY_A);
  await stack.sim.settlePushes();
  await waitFor(async () => {
    const calls = (await api('GET', `/v1/orders/${orderId}/binding`)).json.calls as Array<{ talkSeconds: number }>;
    return calls.some((c) => c.talkSeconds === 7);
  });
  expect((await api('POST', `/v1/orders/${orderId}/binding/extend`, { durationSeconds: 600 })).status).toBe(200);
  expect((await api('DELETE', `/v1/orders/${orderId}/binding`)).status).toBe(200);
  await stack.client.workflow.getHandle(workflowId).result();
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

describe('payload encryption (BINDFLOW_PAYLOAD_KEY set)', () => {
  test('the stored history, read with the temporal CLI and no codec, holds no party number in clear', async () => {
    const history = await historyFromCli();
    fs.writeFileSync(artifactPath('encryption-history.json'), JSON.stringify(history, null, 1));
    const payloads = collectWirePayloads(history);
    // Input, activity arguments and results, update arguments and results, signals, the result.
    expect(payloads.length).toBeGreaterThanOrEqual(8);
    const signals = (history as { events: Array<Record<string, unknown>> }).events.filter(
      (e) => e.workflowExecutionSignaledEventAttributes,
    );
    expect(signals.length).toBeGreaterThan(0);
    for (const p of payloads) {
      expect(Buffer.from(p.metadata.encoding ?? '', 'base64').toString()).toBe(ENCODING);
    }
    expect(findInClear(history, PARTIES)).toEqual([]);
    // The run is the one we think: its id and type are in clear, only payloads are sealed.
    expect(JSON.stringify(history)).toContain('orderBinding');
  });

  test('the bound view the PUT waits for is a memo in clear with no party number, and raw clients list the run', async () => {
    type MemoEvent = {
      workflowPropertiesModifiedEventAttributes?: { upsertedMemo?: { fields?: Record<string, WirePayload> } };
    };
    const history = (await historyFromCli()) as { events: MemoEvent[] };
    const memos = history.events.flatMap((e) => {
      const memo = e.workflowPropertiesModifiedEventAttributes?.upsertedMemo?.fields?.bindflowView;
      return memo ? [memo] : [];
    });
    expect(memos).toHaveLength(1);
    expect(Buffer.from(memos[0].metadata.encoding ?? '', 'base64').toString()).toBe('binary/plain');
    const view = JSON.parse(Buffer.from(memos[0].data, 'base64').toString('utf8'));
    expect(view).toMatchObject({
      orderId,
      state: 'bound',
      numberX,
      parties: [{ label: 'b', numberY: expect.any(String) }],
    });
    expect(findInClear(view, PARTIES)).toEqual([]);
    // A client without the key lists the run (the TypeScript client decodes every listed run's memo).
    const listed: string[] = [];
    for await (const wf of stack.rawClient.workflow.list({ query: `OrderId = "${orderId}"` }))
      listed.push(wf.workflowId);
    expect(listed).toEqual([workflowId]);
  });

  test('the codec server gives the numbers back to a caller with the API token, and 401 without', async () => {
    const payloads = collectWirePayloads(await historyFromCli());
    const refused = await codecDecode(payloads, {});
    expect(refused.status).toBe(401);
    expect(findInClear(refused.json, PARTIES)).toEqual([]);

    const decoded = await codecDecode(payloads, stack.auth);
    expect(decoded.status).toBe(200);
    expect(decoded.json.payloads).toHaveLength(payloads.length);
    const text = decoded.json.payloads!.map((p) => Buffer.from(p.data, 'base64').toString('utf8')).join('\n');
    for (const n of PARTIES) expect(text).toContain(n);
    // The detector used above does find numbers in decoded payloads: the first test can fail.
    expect(findInClear(decoded.json, PARTIES).length).toBeGreaterThan(0);

    // What an operator types: the CLI decoding through the codec server with the token.
    const viaCodec = await historyFromCli({ endpoint: `${stack.apiUrl}/codec`, auth: stack.auth.authorization });
    for (const p of collectWirePayloads(viaCodec)) {
      expect(Buffer.from(p.metadata.encoding ?? '', 'base64').toString()).not.toBe(ENCODING);
    }
    for (const n of PARTIES) expect(findInClear(viaCodec, [n]).length).toBeGreaterThan(0);
  });

  test('search attributes, memo, summary and current details hold no party number', async () => {
    const described = await stack.rawClient.workflowService.describeWorkflowExecution({
      namespace: 'default',
      execution: { workflowId },
    });
    expect(findInClear(described, PARTIES)).toEqual([]);
    const listed = await stack.rawClient.workflowService.listWorkflowExecutions({
      namespace: 'default',
      query: `OrderId = "${orderId}"`,
    });
    expect(listed.executions).toHaveLength(1);
    expect(findInClear(listed, PARTIES)).toEqual([]);

    const handle = stack.client.workflow.getHandle(workflowId);
    const desc = await handle.describe();
    expect(desc.typedSearchAttributes.get({ name: 'OrderId', type: 'KEYWORD' } as never)).toBe(orderId);
    expect(findInClear(desc.searchAttributes, PARTIES)).toEqual([]);
    expect(findInClear(desc.memo ?? {}, PARTIES)).toEqual([]);
    const summary = await desc.staticSummary();
    expect(summary).toContain(orderId);
    expect(findInClear(summary, PARTIES)).toEqual([]);

    // A client without the key (e.g. a CLI not given BINDFLOW_PAYLOAD_KEY) cannot read a binding either.
    await expect(stack.rawClient.workflow.getHandle(workflowId).query('getBinding')).rejects.toThrow(
      /binary\/encrypted/,
    );

    const meta = (await handle.query('__temporal_workflow_metadata')) as { currentDetails?: string };
    expect(meta.currentDetails).toContain(`order ${orderId}`);
    expect(meta.currentDetails).toContain('released');
    expect(findInClear(meta, PARTIES)).toEqual([]);
  });

  test("the operators' filters (docs/operator-guide.md) find the run by its search attributes", async () => {
    // Its expiry is 70 minutes away (1 h + the 10-minute extension): "expiring within 71 minutes".
    const soon = new Date(Date.now() + 71 * 60_000).toISOString();
    const filters = [
      `PrivacyNumberX = "${numberX}"`,
      `PrivacyNumbersY = "${numberY}"`,
      `BindingState = "released" AND AreaCode = "0755"`,
      `ExpiresAt > "${new Date().toISOString()}" AND ExpiresAt < "${soon}"`,
      `WorkflowType = "orderBinding" AND ExecutionStatus = "Completed"`,
    ];
    for (const filter of filters) {
      const ids: string[] = [];
      for await (const wf of stack.rawClient.workflow.list({ query: `OrderId = "${orderId}" AND ${filter}` }))
        ids.push(wf.workflowId);
      expect({ filter, ids }).toEqual({ filter, ids: [workflowId] });
    }
    const none: string[] = [];
    for await (const wf of stack.rawClient.workflow.list({
      query: `OrderId = "${orderId}" AND BindingState = "bound"`,
    }))
      none.push(wf.workflowId);
    expect(none).toEqual([]);
  });

  test('the codec server round-trips a payload far larger than the API body limit (a long-lived run)', async () => {
    const json = JSON.stringify({ calls: Array.from({ length: 2000 }, (_, i) => ({ sessionId: `s-${i}`, talk: i })) });
    expect(json.length).toBeGreaterThan(64 * 1024);
    const plain: WirePayload = {
      metadata: { encoding: Buffer.from('json/plain').toString('base64') },
      data: Buffer.from(json).toString('base64'),
    };
    const enc = await fetch(`${stack.apiUrl}/codec/encode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...stack.auth },
      body: JSON.stringify({ payloads: [plain] }),
    });
    expect(enc.status).toBe(200);
    const sealed = ((await enc.json()) as { payloads: WirePayload[] }).payloads;
    expect(Buffer.from(sealed[0].metadata.encoding, 'base64').toString()).toBe(ENCODING);
    const dec = await codecDecode(sealed, stack.auth);
    expect(dec.status).toBe(200);
    expect(Buffer.from(dec.json.payloads![0].data, 'base64').toString()).toBe(json);
  });
});
