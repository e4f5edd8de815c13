import { loadEnv } from '../../lib/config';
import {
  everyListenerOnLoopback,
  hostHeaderName,
  isLoopbackHost,
  isSimulatorUrl,
  startupProblems,
} from '../../lib/startupChecks';

// Item 5 of issue 13: what `bindflow api` and `bindflow worker` refuse to start with, outside `bindflow dev`.

const TOKEN = 'a-long-enough-api-token';
const REAL = {
  PRIVATENUMBER_BASE_URL: 'https://rtcpns.cn-north-1.myhuaweicloud.com',
  PRIVATENUMBER_APP_KEY: 'app-key-of-the-real-app',
  PRIVATENUMBER_APP_SECRET: 'secret-of-the-real-app',
};
const problems = (role: 'api' | 'worker', given: NodeJS.ProcessEnv) => startupProblems(role, given, loadEnv(given));

describe('start-up refusals', () => {
  test('a real provider with its own credentials and a long token starts', () => {
    expect(problems('worker', REAL)).toEqual([]);
    expect(problems('api', { ...REAL, BINDFLOW_API_TOKEN: TOKEN, BINDFLOW_HOST: '0.0.0.0' })).toEqual([]);
  });

  test.each(['api', 'worker'] as const)(
    '%s: a real provider with a missing or simulator key or secret is refused, naming it',
    (role) => {
      const base = { ...REAL, BINDFLOW_API_TOKEN: TOKEN };
      const noSecret = problems(role, { ...base, PRIVATENUMBER_APP_SECRET: undefined });
      expect(noSecret).toHaveLength(1);
      expect(noSecret[0]).toMatch(/^PRIVATENUMBER_APP_SECRET: is not set/);
      const simSecret = problems(role, { ...base, PRIVATENUMBER_APP_SECRET: 'sim-app-secret' });
      expect(simSecret).toEqual([expect.stringMatching(/^PRIVATENUMBER_APP_SECRET: is the simulator's public secret/)]);
      const simKey = problems(role, { ...base, PRIVATENUMBER_APP_KEY: 'sim-app-key' });
      expect(simKey).toEqual([expect.stringMatching(/^PRIVATENUMBER_APP_KEY: is the simulator's/)]);
      const neither = problems(role, {
        PRIVATENUMBER_BASE_URL: REAL.PRIVATENUMBER_BASE_URL,
        BINDFLOW_API_TOKEN: TOKEN,
      });
      expect(neither.map((p) => p.split(':')[0])).toEqual(['PRIVATENUMBER_APP_KEY', 'PRIVATENUMBER_APP_SECRET']);
    },
  );

  test('the simulator (an http:// provider URL, or none) is exempt', () => {
    expect(problems('worker', {})).toEqual([]);
    expect(problems('worker', { PRIVATENUMBER_BASE_URL: 'http://simulator:9080' })).toEqual([]);
    expect(problems('api', { PRIVATENUMBER_BASE_URL: 'http://127.0.0.1:9080', BINDFLOW_API_TOKEN: TOKEN })).toEqual([]);
    expect(
      problems('api', {
        PRIVATENUMBER_BASE_URL: 'http://simulator:9080',
        BINDFLOW_API_TOKEN: TOKEN,
        BINDFLOW_HOST: '0.0.0.0',
      }),
    ).toEqual([]);
  });

  test('api: without PRIVATENUMBER_BASE_URL the simulator credentials are refused, wherever it listens', () => {
    // It never calls the provider, so its URL is easily left unset; its webhook would then take pushes signed
    // with the simulator's public secret (behind a reverse proxy even on 127.0.0.1).
    for (const host of ['127.0.0.1', '0.0.0.0']) {
      const refused = problems('api', { BINDFLOW_API_TOKEN: TOKEN, BINDFLOW_HOST: host });
      expect(refused.map((p) => p.split(':')[0])).toEqual(['PRIVATENUMBER_APP_KEY', 'PRIVATENUMBER_APP_SECRET']);
      expect(refused[1]).toMatch(/verifies the provider's pushes/);
    }
    const own = {
      PRIVATENUMBER_APP_KEY: REAL.PRIVATENUMBER_APP_KEY,
      PRIVATENUMBER_APP_SECRET: REAL.PRIVATENUMBER_APP_SECRET,
    };
    expect(problems('api', { ...own, BINDFLOW_API_TOKEN: TOKEN, BINDFLOW_HOST: '0.0.0.0' })).toEqual([]);
    // The worker, unset, calls the local simulator: nothing to forge there.
    expect(problems('worker', {})).toEqual([]);
  });

  test('api: tokens shorter than 16 characters, or a codec token equal to the API token, are refused', () => {
    expect(problems('api', { ...REAL, BINDFLOW_API_TOKEN: 'x'.repeat(15) })).toEqual([
      expect.stringMatching(/^BINDFLOW_API_TOKEN: must be at least 16 characters/),
    ]);
    expect(problems('api', { ...REAL, BINDFLOW_API_TOKEN: 'x'.repeat(16) })).toEqual([]);
    expect(problems('api', { ...REAL, BINDFLOW_API_TOKEN: TOKEN, BINDFLOW_CODEC_TOKEN: 'short' })).toEqual([
      expect.stringMatching(/^BINDFLOW_CODEC_TOKEN: must be at least 16/),
    ]);
    expect(problems('api', { ...REAL, BINDFLOW_API_TOKEN: TOKEN, BINDFLOW_CODEC_TOKEN: TOKEN })).toEqual([
      expect.stringMatching(/^BINDFLOW_CODEC_TOKEN: must differ/),
    ]);
    // The worker holds no token.
    expect(problems('worker', { BINDFLOW_API_TOKEN: 'short' })).toEqual([]);
  });

  test('api: a short token is taken only against a simulator with every listener on loopback', () => {
    const local = { PRIVATENUMBER_BASE_URL: 'http://127.0.0.1:9080', BINDFLOW_API_TOKEN: 'dev-token' };
    expect(problems('api', local)).toEqual([]);
    expect(problems('api', { ...local, BINDFLOW_HOST: '0.0.0.0' })).toEqual([
      expect.stringMatching(/^BINDFLOW_API_TOKEN/),
    ]);
    expect(problems('api', { ...local, BINDFLOW_WEBHOOK_PORT: '3100', BINDFLOW_WEBHOOK_HOST: '0.0.0.0' })).toEqual([
      expect.stringMatching(/^BINDFLOW_API_TOKEN/),
    ]);
  });

  test('no problem text carries a secret', () => {
    const given = { ...REAL, PRIVATENUMBER_APP_SECRET: 'sim-app-secret', BINDFLOW_API_TOKEN: 'shorty-token' };
    const text = problems('api', given).join('\n');
    expect(text).not.toContain('shorty-token');
    expect(text).not.toContain(REAL.PRIVATENUMBER_APP_KEY);
  });
});

describe('loopback, Host headers, simulator URLs', () => {
  test.each([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['::1', true],
    ['[::1]', true],
    ['localhost', true],
    ['app.localhost', true],
    ['0.0.0.0', false],
    ['::', false],
    ['10.0.0.1', false],
    ['localhost.evil.example', false],
    ['bindflow.example.com', false],
  ])('%s loopback: %s', (h, loop) => expect(isLoopbackHost(h)).toBe(loop));

  test('Host header names', () => {
    expect(hostHeaderName('127.0.0.1:3000')).toBe('127.0.0.1');
    expect(hostHeaderName('[::1]:3000')).toBe('::1');
    expect(hostHeaderName('localhost')).toBe('localhost');
    expect(hostHeaderName(undefined)).toBeUndefined();
    expect(hostHeaderName('a:b:c')).toBeUndefined();
  });

  test('simulator URLs and listeners', () => {
    expect(isSimulatorUrl(undefined)).toBe(true);
    expect(isSimulatorUrl('http://127.0.0.1:9080')).toBe(true);
    expect(isSimulatorUrl('https://rtcpns.cn-north-1.myhuaweicloud.com')).toBe(false);
    expect(everyListenerOnLoopback(loadEnv({}))).toBe(true);
    expect(everyListenerOnLoopback(loadEnv({ BINDFLOW_HOST: '0.0.0.0' }))).toBe(false);
    expect(everyListenerOnLoopback(loadEnv({ BINDFLOW_WEBHOOK_PORT: '3100', BINDFLOW_WEBHOOK_HOST: '0.0.0.0' }))).toBe(
      false,
    );
    expect(everyListenerOnLoopback(loadEnv({ BINDFLOW_WEBHOOK_PORT: '3100' }))).toBe(true);
  });
});

describe('`bindflow api` and `bindflow worker` refuse before they start anything', () => {
  const run = async (argv: string[], env: NodeJS.ProcessEnv) => {
    const { main } = await import('../../client/cli');
    const err: string[] = [];
    const code = await main(argv, { out: () => undefined, err: (l) => err.push(l), env });
    return { code, err: err.join('\n') };
  };

  test('the simulator secret against a real provider: exit 1 naming the variable', async () => {
    for (const cmd of ['api', 'worker']) {
      const r = await run([cmd], {
        ...REAL,
        PRIVATENUMBER_APP_SECRET: 'sim-app-secret',
        BINDFLOW_API_TOKEN: TOKEN,
        // Nothing listens here: a start that got past the check would fail differently (or hang).
        TEMPORAL_ADDRESS: '127.0.0.1:1',
      });
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/PRIVATENUMBER_APP_SECRET: is the simulator's public secret/);
      expect(r.err).not.toContain('sim-app-secret');
    }
  });

  test('a short API token: exit 1 naming BINDFLOW_API_TOKEN', async () => {
    const r = await run(['api'], { ...REAL, BINDFLOW_API_TOKEN: 'dev-token', TEMPORAL_ADDRESS: '127.0.0.1:1' });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/BINDFLOW_API_TOKEN: must be at least 16 characters/);
    expect(r.err).not.toContain('dev-token');
  });
});
