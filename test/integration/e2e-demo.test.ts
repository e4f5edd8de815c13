import { demoStory } from '../../client/demo';
import * as sa from '../../workflows/searchAttributes';
import { startStack, type Stack } from '../helpers/stack';
import { TEST_TOKEN } from '../helpers/api';

// The demo's whole story (bind, calls both ways, an unanswered call, records, a recording link, an
// extension, a reassigned B, release) through the real API, then what each party shows at the end.

describe('end to end: one order told by `bindflow demo`', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ prefix: 'e2e' });
  });
  afterAll(async () => s?.close());

  test('the story runs and nothing is left at the provider', async () => {
    const lines: string[] = [];
    const io = {
      out: (l: string) => lines.push(l),
      err: (l: string) => lines.push(l),
      env: { BINDFLOW_API_TOKEN: TEST_TOKEN },
    };
    const result = await demoStory(io, { 'api-url': s.apiUrl, 'sim-url': s.sim.url });
    const text = lines.join('\n');

    // What the API shows.
    expect(result.final.state).toBe('released');
    const api = await s.http<{
      state: string;
      calls: Array<{ outcome: string; direction: string; recordingUrl: string | null }>;
    }>('GET', `/v1/orders/${result.orderId}/binding`);
    expect(api.body.state).toBe('released');
    expect(api.body.calls.map((c) => `${c.direction}:${c.outcome}`).sort()).toEqual(
      ['a-to-b:answered', 'b-to-a:answered', 'b-to-a:no-answer'].sort(),
    );
    expect(result.recordingUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/_sim\/recordings\/.+\.wav/);
    const wav = await fetch(result.recordingUrl!);
    expect(wav.status).toBe(200);
    expect(
      Buffer.from(await wav.arrayBuffer())
        .subarray(0, 4)
        .toString(),
    ).toBe('RIFF');

    // What Temporal's visibility shows.
    const desc = await s.client.workflow.getHandle(result.workflowId).describe();
    expect(desc.status.name).toBe('COMPLETED');
    expect(desc.typedSearchAttributes.get(sa.BindingState)).toBe('released');
    expect(desc.typedSearchAttributes.get(sa.OrderId)).toBe(result.orderId);

    // What the provider shows: nothing for this order.
    expect(result.providerBindingsLeft).toBe(0);
    expect(s.sim.bindings().filter((b) => b.userData?.includes(result.orderId))).toHaveLength(0);

    // The narration: every step, the Web UI link, masked numbers only.
    for (const step of [
      '1. Order',
      '2. B dials X',
      '3. A dials Y',
      '4. B dials X again',
      '5. Call records',
      '6. Recording',
      '7. The trip runs late',
      '8. Driver reassigned',
      '9. Trip over',
      '10. The whole run',
    ]) {
      expect(text).toContain(step);
    }
    expect(text).toContain(`/namespaces/default/workflows/${result.workflowId}`);
    expect(text).not.toMatch(/\+86139\d{8}/);
    expect(text).toMatch(/\+86139\*\*\*\*\d{4}/);
  }, 120_000);
});
