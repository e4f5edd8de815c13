import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { PROJECT_ROOT } from '../../lib/binaries';
import { freePort, waitForTcp } from '../../lib/ports';
import { startDevServer, type RunningServer } from '../../lib/temporalServer';
import { artifactPath, chromiumAvailable, CHROMIUM_MISSING, launchChromium } from '../helpers/browser';
import { uniqueTaskQueue } from '../helpers/devServer';
import { callApi, startEncryptedStack, type Stack } from '../fixtures/webui/stack';

// The real Temporal Web UI (the one `bindflow dev` serves) in a real browser: an operator finds an
// order's run by its OrderId and reads its input decoded through bindflow's codec server, while
// Temporal itself only holds ciphertext (see encryption.test.ts). This file runs its own dev server:
// the UI's codec endpoint is a start-up flag, so it must point at this file's API.

const PARTY_A = '+8613966660001';
const PARTY_B = '+8613966660002';
const suffix = Date.now().toString(36);
const orderId = `webui-${suffix}`;
const otherOrderId = `webui-other-${suffix}`;
/** Set to refresh the README's screenshots (docs/images/) from this run. */
const UPDATE_DOCS = process.env.BINDFLOW_UPDATE_DOCS_SCREENSHOT === '1';

const UI_TIMEOUT_MS = 60_000;

// Functions passed to page.evaluate run in the browser; the project compiles without the DOM lib.
declare const document: { body: { innerText: string } | null };

if (!chromiumAvailable()) {
  // Jest lists a skipped suite without its test names: say why here too.
  console.warn(CHROMIUM_MISSING);
  describe('Temporal Web UI in a real browser', () => {
    test.skip(CHROMIUM_MISSING, () => undefined);
  });
} else {
  describe('Temporal Web UI in a real browser', () => {
    let server: RunningServer;
    let stack: Stack;
    let browser: Browser;
    let page: Page;
    let uiOrigin: string;
    const decodeResponses: number[] = [];

    beforeAll(async () => {
      const [grpcPort, uiPort, apiPort] = await distinctFreePorts(3);
      uiOrigin = `http://127.0.0.1:${uiPort}`;
      server = await startDevServer({
        port: grpcPort,
        uiPort,
        codecEndpoint: `http://127.0.0.1:${apiPort}/codec`,
        stdio: 'ignore',
        logLevel: 'error',
      });
      await waitForTcp(uiPort, '127.0.0.1', UI_TIMEOUT_MS);
      // As `bindflow dev` runs it: the codec server trusts browser calls from the UI's origin only.
      stack = await startEncryptedStack({
        temporalAddress: server.address,
        taskQueue: uniqueTaskQueue('webui'),
        corsOrigins: [uiOrigin],
        trustUiOrigin: true,
        apiPort,
      });
      for (const id of [orderId, otherOrderId]) {
        const body = { partyA: PARTY_A, partyB: PARTY_B, areaCode: '0755', durationSeconds: 3600 };
        expect((await callApi(stack, 'PUT', `/v1/orders/${id}/binding`, body)).status).toBe(201);
      }
      browser = await launchChromium();
      page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      page.setDefaultTimeout(UI_TIMEOUT_MS);
      page.on('response', (r) => {
        if (r.url().startsWith(`${stack.apiUrl}/codec/decode`)) decodeResponses.push(r.status());
      });
    }, 240_000);

    afterAll(async () => {
      await browser?.close();
      await stack?.stop();
      await server?.stop();
    });

    test(
      'the workflows list filtered by OrderId="…" shows that run only',
      async () => {
        const query = encodeURIComponent(`OrderId="${orderId}"`);
        await page.goto(`${uiOrigin}/namespaces/default/workflows?query=${query}`);
        const link = page.getByRole('link', { name: `binding-${orderId}`, exact: true });
        await waitOrReload(page, () => link.waitFor({ state: 'visible', timeout: 10_000 }));
        await page.getByRole('link', { name: 'orderBinding' }).first().waitFor();
        expect(await page.getByRole('link', { name: `binding-${otherOrderId}`, exact: true }).count()).toBe(0);
        await screenshot(page, 'webui-list.png');
      },
      UI_TIMEOUT_MS * 2,
    );

    test(
      "the run's page shows its input decoded through the codec server",
      async () => {
        await page.getByRole('link', { name: `binding-${orderId}`, exact: true }).click();
        await page.waitForURL(/\/workflows\/binding-webui-[^/]+\/[0-9a-f-]+\//);
        // The stored input is ciphertext: a party number on the page can only come from the codec server.
        await page.waitForFunction(
          (numbers) => numbers.every((n) => document.body?.innerText.includes(n)),
          [PARTY_A, PARTY_B],
          { timeout: UI_TIMEOUT_MS, polling: 500 },
        );
        expect(decodeResponses).toContain(200);
        expect(decodeResponses.filter((s) => s !== 200)).toEqual([]);
        await page.getByText(`"orderId": "${orderId}"`).first().waitFor();
        await screenshot(page, 'webui-run.png');
      },
      UI_TIMEOUT_MS * 2,
    );

    test(
      "the run's summary and current details name the order, its state and X, and no party number",
      async () => {
        await page.getByRole('tab', { name: 'User Metadata' }).click();
        // The UI renders summary and details as markdown in iframes: read every frame's text.
        const summary = `Order ${orderId}: AXYB privacy-number binding in area 0755`;
        // State, order, X, each party's Y, call count and expiry: what an operator needs, no party number.
        const details = new RegExp(
          `bound · order ${orderId} · area 0755 · X \\+86\\d+ · parties: b via \\+86\\d+ · calls: 0 · expires \\d{4}-`,
        );
        let text = '';
        await poll(async () => {
          text = await allFramesText(page);
          return text.includes(summary) && details.test(text);
        });
        for (const n of [PARTY_A, PARTY_B]) expect(text).not.toContain(n.slice(3));
        await screenshot(page, 'webui-metadata.png');
      },
      UI_TIMEOUT_MS * 2,
    );
  });
}

async function distinctFreePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

/** A screenshot kept in test-artifacts/ (and, with BINDFLOW_UPDATE_DOCS_SCREENSHOT=1, in docs/images/). */
async function screenshot(page: Page, name: string): Promise<void> {
  const file = artifactPath(name);
  await page.screenshot({ path: file });
  if (UPDATE_DOCS) fs.copyFileSync(file, path.join(PROJECT_ROOT, 'docs', 'images', name));
}

async function allFramesText(page: Page): Promise<string> {
  const texts = await Promise.all(
    page.frames().map((f) => f.evaluate(() => document.body?.innerText ?? '').catch(() => '')),
  );
  return texts.join('\n');
}

/** Polls `check` every half second for a minute. */
async function poll(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + UI_TIMEOUT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('the Web UI did not show the expected text within a minute');
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Visibility is eventually consistent: reload the page until `wait` succeeds, or give up after a minute. */
async function waitOrReload(page: Page, wait: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + UI_TIMEOUT_MS;
  for (;;) {
    try {
      return await wait();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await page.reload();
    }
  }
}
