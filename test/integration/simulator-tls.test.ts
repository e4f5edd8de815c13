// HTTPS like the real platform: the project's client verifies the simulator's certificate through `ca`,
// and the recording link keeps the https scheme. Skipped, saying so, without the openssl CLI.
import { Agent, request } from 'undici';
import { createLogger } from '../../lib/log';
import { PrivateNumberClient } from '../../provider/client';
import { ProviderError } from '../../provider/resultCodes';
import { opensslAvailable, selfSignedCert, startSimulator } from '../../simulator';

const OPENSSL = opensslAvailable();
if (!OPENSSL) process.stderr.write('simulator-tls.test.ts SKIPPED: the `openssl` CLI is not on PATH\n');
const describeIfOpenssl = OPENSSL ? describe : describe.skip;

describeIfOpenssl('simulator over HTTPS', () => {
  it('serves the provider API and recordings over TLS, verified with the given CA', async () => {
    const tls = selfSignedCert();
    const sim = await startSimulator({
      tls,
      logger: createLogger('t', {}, () => undefined),
      pushUrl: 'http://127.0.0.1:9/x',
    });
    const pn = new PrivateNumberClient({
      baseUrl: sim.url,
      appKey: sim.appKey,
      appSecret: sim.appSecret,
      ca: tls.cert,
    });
    const untrusting = new PrivateNumberClient({ baseUrl: sim.url, appKey: sim.appKey, appSecret: sim.appSecret });
    const agent = new Agent({ connect: { ca: tls.cert } });
    try {
      expect(sim.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const ax = await pn.bindAx({ origNum: '+8613800000001', areaCode: '0755', recordFlag: true });
      await pn.bindYb({ origNum: '+8613800000002', subscriptionId: ax.subscriptionId });
      const call = sim.call({ from: '+8613800000002', to: ax.relationNumber });
      const url = await pn.recordingUrl({
        recordDomain: 'record.bindflow-sim.local',
        fileName: call.recordObjectName!,
      });
      expect(url.startsWith(`${sim.url}/_sim/recordings/`)).toBe(true);
      const file = await request(url, { dispatcher: agent });
      expect(file.statusCode).toBe(200);
      expect(Buffer.from(await file.body.arrayBuffer()).toString('ascii', 0, 4)).toBe('RIFF');
      // without the CA, the certificate is refused
      const refused = await untrusting.query({ subscriptionId: ax.subscriptionId }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(ProviderError);
      expect((refused as ProviderError).code).toBe('TLS_ERROR');
    } finally {
      await agent.close();
      await pn.close();
      await untrusting.close();
      await sim.close();
    }
  });
});
