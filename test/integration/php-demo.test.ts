// The provider's own PHP demo clients (test/fixtures/php, see its README) against the simulator: AX bind, YB bind,
// query, recording download URL and unbind. Skipped, saying so, where `php` is not installed.
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Agent, request } from 'undici';
import { createLogger } from '../../lib/log';
import { PrivateNumberClient } from '../../provider/client';
import { opensslAvailable, selfSignedCert, startSimulator, type Simulator, type TlsMaterial } from '../../simulator';

const run = promisify(execFile);
const FIXTURES = path.join(__dirname, '..', 'fixtures', 'php');
const PHP_AVAILABLE = spawnSync('php', ['-v'], { stdio: 'ignore' }).status === 0;
const SKIP_NOTE = 'SKIPPED: `php` is not on PATH (install php-cli to run the provider PHP demos)';
if (!PHP_AVAILABLE) process.stderr.write(`php-demo.test.ts ${SKIP_NOTE}\n`);
const describeIfPhp = PHP_AVAILABLE ? describe : describe.skip;

const A = '+8613800000001';
const B = '+8613800000002';

describeIfPhp(`provider PHP demo clients against the simulator${PHP_AVAILABLE ? '' : ` [${SKIP_NOTE}]`}`, () => {
  let sim: Simulator;
  let cwd: string;
  // Over HTTPS like the real platform when openssl can make a certificate: the demos' own "verify_peer => false"
  // options then do their job; otherwise plain HTTP (the demos take the scheme from the URL).
  let tls: TlsMaterial | undefined;

  beforeAll(async () => {
    tls = opensslAvailable() ? selfSignedCert() : undefined;
    sim = await startSimulator({
      ...(tls ? { tls } : {}),
      port: 0,
      seed: 9,
      logger: createLogger('php-test', {}, () => undefined),
      pushUrl: 'http://127.0.0.1:9/none',
    });
    cwd = mkdtempSync(path.join(os.tmpdir(), 'bindflow-php-')); // the demos append to ./bind_data.txt
  });
  afterAll(async () => {
    await sim.close();
    rmSync(cwd, { recursive: true, force: true });
  });

  /** Runs one demo (async: the simulator answers from this same process) and returns its stdout. */
  async function demo(script: string, env: Record<string, string>): Promise<string> {
    const { stdout } = await run('php', [path.join(FIXTURES, script)], {
      cwd,
      timeout: 20_000,
      env: { ...process.env, PN_BASE_URL: sim.url, PN_APP_KEY: sim.appKey, PN_APP_SECRET: sim.appSecret, ...env },
    });
    return stdout;
  }

  /** The provider's JSON answer printed by a demo (the line after the request it echoes). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON answers
  function answer(stdout: string): Record<string, any> {
    const line = stdout.split('\n').find((l) => l.startsWith('{"resultcode"'));
    if (!line) throw new Error(`no provider answer in demo output: ${stdout.slice(0, 200)}`);
    return JSON.parse(line);
  }

  it('binds AX, binds YB, queries, unbinds, exactly as the provider demos do', async () => {
    const ax = answer(await demo('bind_ax.php', { PN_ORIG_NUM_A: A, PN_ORIG_NUM_B: B, PN_SUBSCRIPTION_ID: '' }));
    expect(ax).toMatchObject({
      resultcode: '0',
      subscriptionId: expect.any(String),
      relationNumber: expect.stringMatching(/^\+86755/),
    });
    const yb = answer(
      await demo('bind_yb.php', { PN_ORIG_NUM_A: A, PN_ORIG_NUM_B: B, PN_SUBSCRIPTION_ID: ax.subscriptionId }),
    );
    expect(yb).toMatchObject({ resultcode: '0', subscriptionId: ax.subscriptionId });
    expect(yb.relationNumber).not.toBe(ax.relationNumber);
    expect(sim.bindings()).toEqual([
      expect.objectContaining({
        numA: A,
        numX: ax.relationNumber,
        yb: [expect.objectContaining({ numB: B, numY: yb.relationNumber })],
      }),
    ]);

    // the demo sends both relationNum and subscriptionId; subscriptionId wins
    const q = answer(
      await demo('query.php', { PN_RELATION_NUM: '+8675528000020', PN_SUBSCRIPTION_ID: ax.subscriptionId }),
    );
    expect(q.resultcode).toBe('0');
    expect(q.xyRelationNumList).toEqual([
      expect.objectContaining({ numA: A, numX: ax.relationNumber, numY: yb.relationNumber, numB: B }),
    ]);

    const un = answer(await demo('unbind.php', { PN_SUBSCRIPTION_ID: ax.subscriptionId }));
    expect(un.resultcode).toBe('0');
    expect(sim.bindings()).toEqual([]);
    expect(answer(await demo('unbind.php', { PN_SUBSCRIPTION_ID: ax.subscriptionId })).resultcode).toBe('1016001');
    // the demos keep their local log, as the provider wrote them
    expect(readFileSync(path.join(cwd, 'bind_data.txt'), 'utf8')).toContain(ax.subscriptionId);
  });

  it('gets a recording download URL from the 301, which serves the WAV', async () => {
    const pn = new PrivateNumberClient({
      baseUrl: sim.url,
      appKey: sim.appKey,
      appSecret: sim.appSecret,
      ...(tls ? { ca: tls.cert } : {}),
    });
    try {
      const ax = await pn.bindAx({ origNum: A, areaCode: '021', recordFlag: true });
      await pn.bindYb({ origNum: B, subscriptionId: ax.subscriptionId });
      const call = sim.call({ from: B, to: ax.relationNumber, talkSeconds: 12 });
      expect(call.recordObjectName).toBeDefined();
      const env = { PN_RECORD_DOMAIN: 'record.bindflow-sim.local', PN_FILE_NAME: call.recordObjectName! };
      const out = (await demo('record_url.php', env)).trim();
      expect(out).toMatch(new RegExp(`^${sim.url}/_sim/recordings/${call.recordObjectName}\\?expires=\\d+$`));
      const agent = new Agent({ connect: tls ? { ca: tls.cert } : {} });
      const file = await request(out, { dispatcher: agent });
      expect(file.statusCode).toBe(200);
      expect(Buffer.from(await file.body.arrayBuffer()).toString('ascii', 0, 4)).toBe('RIFF');
      await agent.close();
      // an unknown file: the demo prints the status line of the failure
      const missing = await demo('record_url.php', { ...env, PN_FILE_NAME: 'missing.wav' });
      expect(missing).toMatch(/^HTTP\/1\.1 403/);
    } finally {
      await pn.close();
    }
  });
});
