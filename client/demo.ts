import { request } from 'undici';
import { loadEnv } from '../lib/config';
import { maskNumber } from '../provider/mask';
import type { BindingView } from '../workflows/types';
import type { Io } from './cli';
import { DEV_API_TOKEN, simulatorUrl } from './devDefaults';

// `bindflow demo`: one order's whole life against the running local stack, narrated step by step,
// with what the provider (simulator) holds at each step. Uses only the public HTTP APIs.

export const DEMO_HELP = `Usage: bindflow demo [--api-url <url>] [--sim-url <url>] [--show-numbers] [--json]

Against the running local stack (\`npm start\`): binds an order, places calls through the simulator
(B calls A, A calls B, an unanswered call), shows the call records and a recording link, extends the
order, reassigns B, releases, and shows the provider's view at each step and the run's Web UI link.
Party numbers are masked unless --show-numbers. Uses $BINDFLOW_API_TOKEN (default: the dev token).`;

interface SimBinding {
  subscriptionId: string;
  numA: string;
  numX: string;
  yb: Array<{ numY: string; numB: string }>;
  expiresAt: string;
}

class Http {
  constructor(
    private readonly base: string,
    private readonly token?: string,
  ) {}
  async call<T>(
    method: 'GET' | 'PUT' | 'POST' | 'DELETE',
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    const res = await request(new URL(path, this.base), {
      method,
      headers: { 'content-type': 'application/json', ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
      headersTimeout: 60_000,
      bodyTimeout: 60_000,
    });
    const text = await res.body.text();
    const parsed = text ? JSON.parse(text) : null;
    if (res.statusCode >= 400)
      throw new Error(`${method} ${path} answered ${res.statusCode}: ${JSON.stringify(parsed)}`);
    return { status: res.statusCode, body: parsed as T };
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const randomMobile = () => `+86139${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;

export interface DemoResult {
  orderId: string;
  workflowId: string;
  final: BindingView;
  calls: number;
  recordingUrl: string | null;
  providerBindingsLeft: number;
  webUiUrl: string;
}

export async function runDemo(io: Io, values: Record<string, unknown>): Promise<number> {
  const result = await demoStory(io, values);
  if (values.json) io.out(JSON.stringify(result, null, 2));
  return result.providerBindingsLeft === 0 && result.final.state === 'released' ? 0 : 1;
}

export async function demoStory(io: Io, values: Record<string, unknown>): Promise<DemoResult> {
  const env = loadEnv(io.env);
  const apiUrl = String(values['api-url'] ?? `http://127.0.0.1:${env.BINDFLOW_PORT}`);
  const simUrl = String(values['sim-url'] ?? simulatorUrl(io.env, env));
  const uiBase = String(values['ui-url'] ?? 'http://127.0.0.1:8233');
  const api = new Http(apiUrl, env.BINDFLOW_API_TOKEN ?? DEV_API_TOKEN);
  const sim = new Http(simUrl);
  const quiet = Boolean(values.json);
  const say = (s: string) => !quiet && io.out(s);
  const show = (n: string | null | undefined) => (values['show-numbers'] ? (n ?? '-') : maskNumber(n ?? ''));
  const orderId = `demo-${Date.now().toString(36)}`;
  const A = randomMobile();
  const B = randomMobile();
  const B2 = randomMobile();
  const path = `/v1/orders/${orderId}/binding`;

  const providerView = async (subscriptionId: string | null) => {
    const all = (await sim.call<{ bindings: SimBinding[] } | SimBinding[]>('GET', '/_sim/bindings')).body;
    const list = (Array.isArray(all) ? all : all.bindings).filter((b) => b.subscriptionId === subscriptionId);
    if (!list.length) say('   provider: no binding for this order');
    for (const b of list) {
      say(
        `   provider: A ${show(b.numA)} ⇄ X ${b.numX}; ${b.yb.map((y) => `Y ${y.numY} ⇄ B ${show(y.numB)}`).join('; ') || 'no YB'}; expires ${b.expiresAt}`,
      );
    }
    return list;
  };
  const waitFor = async (what: string, ok: (v: BindingView) => boolean): Promise<BindingView> => {
    for (let i = 0; i < 120; i++) {
      const v = (await api.call<BindingView>('GET', path)).body;
      if (ok(v)) return v;
      await sleep(500);
    }
    throw new Error(`timed out waiting for ${what}`);
  };

  say(`1. Order ${orderId}: bind passenger A ${show(A)} and driver B ${show(B)} in area 0755 for 1 hour, recorded`);
  const bound = await api.call<BindingView>('PUT', path, {
    partyA: A,
    partyB: B,
    areaCode: '0755',
    durationSeconds: 3600,
    record: true,
  });
  let view = bound.body.state === 'binding' ? await waitFor('both numbers', (v) => v.state !== 'binding') : bound.body;
  if (view.state !== 'bound') throw new Error(`binding ended ${view.state}: ${view.failure?.reason ?? ''}`);
  const Y = view.parties[0].numberY as string;
  const X = view.numberX as string;
  say(
    `   HTTP ${bound.status}: state ${view.state}; A reaches B on Y ${Y}, B reaches A on X ${X}; expires ${view.expiresAt}`,
  );
  await providerView(view.subscriptionId);

  say(`2. B dials X: the call reaches A, who sees Y`);
  const c1 = (
    await sim.call<Record<string, unknown>>('POST', '/_sim/calls', { from: B, to: X, answer: true, talkSeconds: 42 })
  ).body;
  say(`   connected to ${show(c1.connectedTo as string)} showing ${c1.displayNumber}; stateCode ${c1.stateCode}`);
  say(`3. A dials Y: the call reaches B, who sees X`);
  const c2 = (
    await sim.call<Record<string, unknown>>('POST', '/_sim/calls', { from: A, to: Y, answer: true, talkSeconds: 15 })
  ).body;
  say(`   connected to ${show(c2.connectedTo as string)} showing ${c2.displayNumber}; stateCode ${c2.stateCode}`);
  say(`4. B dials X again; A does not answer`);
  const c3 = (await sim.call<Record<string, unknown>>('POST', '/_sim/calls', { from: B, to: X, answer: false })).body;
  say(`   stateCode ${c3.stateCode}`);

  say(`5. Call records pushed by the provider, merged per call in the workflow:`);
  view = await waitFor(
    'three finished calls',
    (v) => v.calls.filter((c) => c.endedAt && c.outcome !== 'in-progress').length >= 3,
  );
  for (const c of view.calls)
    say(`   ${c.direction.padEnd(6)} ${c.outcome.padEnd(10)} talk ${c.talkSeconds} s  started ${c.startedAt}`);
  say(`6. Recording link of the first answered call:`);
  view = await waitFor('a recording link', (v) => v.calls.some((c) => c.recordingUrl)).catch(() => view);
  const recordingUrl = view.calls.find((c) => c.recordingUrl)?.recordingUrl ?? null;
  say(`   ${recordingUrl ?? '(none yet)'}`);

  say(`7. The trip runs late: extend by 30 minutes`);
  view = (await api.call<BindingView>('POST', `${path}/extend`, { durationSeconds: 1800 })).body;
  say(`   expires ${view.expiresAt} (extension left: ${view.extensionRemainingSeconds} s)`);

  say(`8. Driver reassigned: B becomes ${show(B2)}; A keeps X`);
  view = (await api.call<BindingView>('PUT', `${path}/parties/b`, { number: B2 })).body;
  say(`   X ${view.numberX}; new Y ${view.parties[0].numberY}`);
  await providerView(view.subscriptionId);

  say(`9. Trip over: release`);
  const final = (await api.call<BindingView>('DELETE', path)).body;
  say(`   state ${final.state}`);
  const left = await providerView(final.subscriptionId);
  const webUiUrl = `${uiBase}/namespaces/${env.TEMPORAL_NAMESPACE}/workflows/${encodeURIComponent(final.workflowId)}`;
  say(`10. The whole run in the Temporal Web UI: ${webUiUrl}`);
  return {
    orderId,
    workflowId: final.workflowId,
    final,
    calls: view.calls.length,
    recordingUrl,
    providerBindingsLeft: left.length,
    webUiUrl,
  };
}
