import { ConfigError, loadEnv } from '../../lib/config';

describe('configuration from the environment', () => {
  test('defaults are the contract’s', () => {
    const env = loadEnv({});
    expect(env).toMatchObject({
      TEMPORAL_ADDRESS: '127.0.0.1:7233',
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: 'bindflow',
      BINDFLOW_PORT: 3000,
      BINDFLOW_METRICS_PORT: 9464,
      PRIVATENUMBER_APP_KEY: 'sim-app-key',
    });
  });

  test('every problem is reported at once, each naming its variable', () => {
    let err: unknown;
    try {
      loadEnv({
        BINDFLOW_PAYLOAD_KEY: 'abc',
        TEMPORAL_TLS_CERT: 'x',
        BINDFLOW_PORT: 'http',
        PRIVATENUMBER_BASE_URL: 'not a url',
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.join('\n');
    for (const name of ['BINDFLOW_PAYLOAD_KEY', 'TEMPORAL_TLS_CERT', 'BINDFLOW_PORT', 'PRIVATENUMBER_BASE_URL']) {
      expect(problems).toContain(name);
    }
  });

  test('a 32-byte base64 payload key is accepted', () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    expect(loadEnv({ BINDFLOW_PAYLOAD_KEY: key }).BINDFLOW_PAYLOAD_KEY).toBe(key);
  });
});
