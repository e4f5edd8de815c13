import { request } from 'undici';
import { signHeaders } from '../provider/aksk';
import { WEBHOOK_PATH } from '../client/webhook';
import { httpAgent } from './orders';
import { closedLoop, summarize, type LatencySummary } from './stats';
import { SIM_APP } from './stack';

// Webhook intake: signed call-event pushes POSTed straight at the webhook, each routed by its echoed
// userData to a bound order's workflow as a signal. Every push has a new sessionId and a new nonce.

export interface WebhookResult {
  pushes: number;
  concurrency: number;
  perSecond: number;
  latencyMs: LatencySummary;
  non200: number;
}

/** `templates` are real pushes the simulator sent (one per bound order); each is re-sent with a fresh session. */
export async function webhookLoad(
  apiUrl: string,
  templates: Array<Record<string, unknown>>,
  total: number,
  concurrency: number,
): Promise<WebhookResult> {
  const latencies: number[] = [];
  let non200 = 0;
  const wall = await closedLoop(total, concurrency, async (i) => {
    const t = templates[i % templates.length] as { eventType: string; statusInfo: Record<string, unknown> };
    const body = { ...t, statusInfo: { ...t.statusInfo, sessionId: `bench-wh-${Date.now()}-${i}` } };
    const t0 = performance.now();
    const res = await request(`${apiUrl}${WEBHOOK_PATH}`, {
      method: 'POST',
      dispatcher: httpAgent,
      headers: { ...signHeaders(SIM_APP), 'content-type': 'application/json;charset=UTF-8' },
      body: JSON.stringify(body),
    });
    await res.body.text();
    latencies.push(performance.now() - t0);
    if (res.statusCode !== 200) non200++;
  });
  return {
    pushes: total,
    concurrency,
    perSecond: Math.round((total / wall) * 1000 * 10) / 10,
    latencyMs: summarize(latencies),
    non200,
  };
}
