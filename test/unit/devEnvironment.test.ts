import { loadEnv } from '../../lib/config';
import { startupProblems } from '../../lib/startupChecks';
import { devEnvironment } from '../../client/dev';

// What `bindflow dev` sets for the local stack (issue 13): loopback callbacks allowed, full numbers in
// callbacks, public metrics, a callback secret; the user's own values win; its worker passes the start-up checks.

const KEY = Buffer.alloc(32, 1).toString('base64');

test('dev defaults for the edges, and the user’s values kept', () => {
  const env = loadEnv(devEnvironment({ BINDFLOW_PAYLOAD_KEY: KEY }));
  expect(env).toMatchObject({
    BINDFLOW_CALLBACK_ALLOW_HOSTS: 'localhost,127.0.0.1,::1',
    BINDFLOW_CALLBACK_NUMBERS: 'full',
    BINDFLOW_METRICS_PUBLIC: true,
    BINDFLOW_CALLBACK_UNSIGNED: false,
    PRIVATENUMBER_BASE_URL: 'http://127.0.0.1:9080',
  });
  expect(env.BINDFLOW_CALLBACK_SECRET).toBeTruthy();
  const own = loadEnv(
    devEnvironment({
      BINDFLOW_PAYLOAD_KEY: KEY,
      BINDFLOW_CALLBACK_ALLOW_HOSTS: 'hooks.internal',
      BINDFLOW_CALLBACK_NUMBERS: 'masked',
      BINDFLOW_METRICS_PUBLIC: '0',
    }),
  );
  expect(own).toMatchObject({
    BINDFLOW_CALLBACK_ALLOW_HOSTS: 'hooks.internal',
    BINDFLOW_CALLBACK_NUMBERS: 'masked',
    BINDFLOW_METRICS_PUBLIC: false,
  });
});

test('the worker `bindflow dev` spawns passes the start-up checks against its simulator', () => {
  const given = devEnvironment({ BINDFLOW_PAYLOAD_KEY: KEY });
  expect(startupProblems('worker', given, loadEnv(given))).toEqual([]);
  // And so would an API started the same way (the dev token is short, but everything is on loopback).
  expect(startupProblems('api', given, loadEnv(given))).toEqual([]);
});
