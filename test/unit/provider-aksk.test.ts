import fc from 'fast-check';
import {
  AKSK_FAILURE,
  AUTHORIZATION_VALUE,
  NonceReplayCache,
  computeDigest,
  formatCreated,
  parseXAksk,
  signHeaders,
  verifyAksk,
} from '../../provider/aksk';

const appKey = 'a1b2c3appkey';
const appSecret = 'cfc8testsecret';
const now = new Date('2026-03-01T10:00:00.000Z');

function xAksk(fields: { username?: string; digest?: string; nonce?: string; created?: string }, sep = ','): string {
  const parts: string[] = [];
  if (fields.username !== undefined) parts.push(`Username="${fields.username}"`);
  if (fields.digest !== undefined) parts.push(`PasswordDigest="${fields.digest}"`);
  if (fields.nonce !== undefined) parts.push(`Nonce="${fields.nonce}"`);
  if (fields.created !== undefined) parts.push(`Created="${fields.created}"`);
  return `UsernameToken ${parts.join(sep)}`;
}

function signed(nonce: string, created: string, sep = ','): string {
  return xAksk({ username: appKey, digest: computeDigest(appSecret, nonce, created), nonce, created }, sep);
}

describe('X-AKSK digest', () => {
  it('matches the spec test vector', () => {
    expect(computeDigest('cfc8testsecret', '66C92B11FF8A425FB8D4CCFE0ED9ED1F', '2018-02-12T15:30:20Z')).toBe(
      'n+d6bju39E9m1Nj6WM0hpkZ/Sr4RAkNlbMtyWKcJ3nY=',
    );
  });

  it('formats Created in UTC without milliseconds', () => {
    expect(formatCreated(new Date('2018-02-12T15:30:20.987Z'))).toBe('2018-02-12T15:30:20Z');
  });
});

describe('signHeaders', () => {
  it('produces the fixed Authorization and a verifiable X-AKSK with the vector inputs', () => {
    const h = signHeaders({
      appKey,
      appSecret,
      now: new Date('2018-02-12T15:30:20.123Z'),
      nonce: '66C92B11FF8A425FB8D4CCFE0ED9ED1F',
    });
    expect(h.Authorization).toBe('AKSK realm="SDP",profile="UsernameToken",type="Appkey"');
    expect(h['X-AKSK']).toBe(
      `UsernameToken Username="${appKey}",PasswordDigest="n+d6bju39E9m1Nj6WM0hpkZ/Sr4RAkNlbMtyWKcJ3nY=",` +
        'Nonce="66C92B11FF8A425FB8D4CCFE0ED9ED1F",Created="2018-02-12T15:30:20Z"',
    );
  });

  it('uses a fresh alphanumeric nonce on every call', () => {
    const nonces = new Set(
      Array.from({ length: 50 }, () => parseXAksk(signHeaders({ appKey, appSecret })['X-AKSK'])?.nonce),
    );
    expect(nonces.size).toBe(50);
    for (const n of nonces) expect(n).toMatch(/^[A-Za-z0-9]{1,128}$/);
  });
});

describe('parseXAksk', () => {
  const expected = { username: 'k', passwordDigest: 'd+/=', nonce: 'N1', created: '2018-02-12T15:30:20Z' };

  it.each([
    [
      'no spaces (demo code)',
      'UsernameToken Username="k",PasswordDigest="d+/=",Nonce="N1",Created="2018-02-12T15:30:20Z"',
    ],
    [
      '", " (documentation)',
      'UsernameToken Username="k", PasswordDigest="d+/=", Nonce="N1", Created="2018-02-12T15:30:20Z"',
    ],
    ['any order', 'UsernameToken Created="2018-02-12T15:30:20Z",Nonce="N1", Username="k",PasswordDigest="d+/="'],
  ])('accepts %s', (_name, header) => {
    expect(parseXAksk(header)).toEqual(expected);
  });

  it.each([
    ['another scheme', 'Basic Username="k"'],
    ['unquoted values', 'UsernameToken Username=k,Nonce=N1'],
    ['a repeated attribute', 'UsernameToken Nonce="a",Nonce="b"'],
    ['trailing garbage', 'UsernameToken Username="k" garbage'],
  ])('rejects %s', (_name, header) => {
    expect(parseXAksk(header)).toBeNull();
  });
});

describe('verifyAksk', () => {
  const created = formatCreated(now);
  const opts = { appKey, appSecret, now };

  it.each([',', ', '])('accepts a valid header with separator %j', (sep) => {
    const r = verifyAksk({ authorization: AUTHORIZATION_VALUE, xAksk: signed('abc123', created, sep) }, opts);
    expect(r).toEqual({ ok: true, nonce: 'abc123', created });
  });

  it('accepts the Authorization header with spaces after commas', () => {
    const authorization = 'AKSK realm="SDP", profile="UsernameToken", type="Appkey"';
    expect(verifyAksk({ authorization, xAksk: signed('abc123', created) }, opts).ok).toBe(true);
  });

  it('round-trips signHeaders', () => {
    const h = signHeaders({ appKey, appSecret, now });
    expect(verifyAksk({ authorization: h.Authorization, xAksk: h['X-AKSK'] }, opts).ok).toBe(true);
  });

  const cases: Array<[string, { authorization?: string | string[]; xAksk?: string | string[] }, string]> = [
    ['no Authorization', { xAksk: signed('n1', created) }, AKSK_FAILURE.badAuthorization],
    ['a wrong Authorization', { authorization: 'AKSK realm="X"', xAksk: signed('n1', created) }, '1023006'],
    ['no X-AKSK', { authorization: AUTHORIZATION_VALUE }, '1023033'],
    ['an empty X-AKSK', { authorization: AUTHORIZATION_VALUE, xAksk: '' }, '1023033'],
    ['two X-AKSK headers', { authorization: AUTHORIZATION_VALUE, xAksk: ['a', 'b'] }, AKSK_FAILURE.malformedXAksk],
    [
      'a malformed X-AKSK',
      { authorization: AUTHORIZATION_VALUE, xAksk: 'UsernameToken junk' },
      AKSK_FAILURE.malformedXAksk,
    ],
    [
      'no Nonce',
      { authorization: AUTHORIZATION_VALUE, xAksk: xAksk({ username: appKey, digest: 'x', created }) },
      '1023035',
    ],
    [
      'a Nonce with symbols',
      { authorization: AUTHORIZATION_VALUE, xAksk: xAksk({ username: appKey, digest: 'x', nonce: 'a-b', created }) },
      AKSK_FAILURE.malformedXAksk,
    ],
    [
      'Created with milliseconds',
      { authorization: AUTHORIZATION_VALUE, xAksk: signed('n1', '2026-03-01T10:00:00.000Z') },
      AKSK_FAILURE.badCreated,
    ],
    [
      'an impossible Created date',
      { authorization: AUTHORIZATION_VALUE, xAksk: signed('n1', '2026-02-31T10:00:00Z') },
      AKSK_FAILURE.badCreated,
    ],
    [
      'no digest',
      { authorization: AUTHORIZATION_VALUE, xAksk: xAksk({ username: appKey, nonce: 'n1', created }) },
      AKSK_FAILURE.missingDigest,
    ],
    [
      'another app key',
      {
        authorization: AUTHORIZATION_VALUE,
        xAksk: xAksk({ username: 'other', digest: computeDigest(appSecret, 'n1', created), nonce: 'n1', created }),
      },
      AKSK_FAILURE.unknownAppKey,
    ],
    [
      'a digest made with another secret',
      {
        authorization: AUTHORIZATION_VALUE,
        xAksk: xAksk({ username: appKey, digest: computeDigest('wrong', 'n1', created), nonce: 'n1', created }),
      },
      AKSK_FAILURE.badDigest,
    ],
  ];
  it.each(cases)('rejects %s', (_name, input, code) => {
    const r = verifyAksk(input, opts);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.resultcode).toBe(code);
      expect(r.reason).not.toContain(appSecret);
    }
  });

  it('in lenient mode accepts a symbol in the Nonce and milliseconds in Created, still checking the digest', () => {
    const c = '2026-03-01T10:00:00.250Z';
    const input = { authorization: AUTHORIZATION_VALUE, xAksk: signed('a-b_c', c) };
    expect(verifyAksk(input, opts).ok).toBe(false);
    expect(verifyAksk(input, { ...opts, lenient: true })).toMatchObject({ ok: true, nonce: 'a-b_c', created: c });
    const forged = xAksk({ username: appKey, digest: computeDigest('x', 'a-b', c), nonce: 'a-b', created: c });
    expect(verifyAksk({ authorization: AUTHORIZATION_VALUE, xAksk: forged }, { ...opts, lenient: true })).toMatchObject(
      {
        ok: false,
        resultcode: AKSK_FAILURE.badDigest,
      },
    );
    const late = signed('n', '2026-03-01T09:54:59.999Z');
    expect(verifyAksk({ authorization: AUTHORIZATION_VALUE, xAksk: late }, { ...opts, lenient: true })).toMatchObject({
      resultcode: '1010013',
    });
  });

  it('rejects Created outside the skew window with 1010013, on both sides', () => {
    const late = formatCreated(new Date(now.getTime() - 301_000));
    const early = formatCreated(new Date(now.getTime() + 301_000));
    const edge = formatCreated(new Date(now.getTime() - 300_000));
    for (const c of [late, early]) {
      const r = verifyAksk({ authorization: AUTHORIZATION_VALUE, xAksk: signed('n1', c) }, opts);
      expect(r).toMatchObject({ ok: false, resultcode: '1010013' });
    }
    expect(verifyAksk({ authorization: AUTHORIZATION_VALUE, xAksk: signed('n1', edge) }, opts).ok).toBe(true);
  });

  it('honours a custom skew', () => {
    const c = formatCreated(new Date(now.getTime() - 61_000));
    const xa = signed('n1', c);
    expect(verifyAksk({ authorization: AUTHORIZATION_VALUE, xAksk: xa }, { ...opts, skewSeconds: 60 }).ok).toBe(false);
    expect(verifyAksk({ authorization: AUTHORIZATION_VALUE, xAksk: xa }, { ...opts, skewSeconds: 120 }).ok).toBe(true);
  });

  it('rejects a replayed nonce inside the window, and forgets it once Created has left the window', () => {
    const cache = new NonceReplayCache();
    const xa = signed('replayme', created);
    const v = (at: Date) =>
      verifyAksk({ authorization: AUTHORIZATION_VALUE, xAksk: xa }, { ...opts, now: at, replayCache: cache });
    expect(v(now).ok).toBe(true);
    expect(v(new Date(now.getTime() + 10_000))).toMatchObject({ ok: false, resultcode: AKSK_FAILURE.replay });
    // After the window the header fails on skew anyway, and the cache entry is gone.
    expect(v(new Date(now.getTime() + 301_000))).toMatchObject({ ok: false, resultcode: '1010013' });
    // another nonce with the same Created is fine
    const other = signed('fresh', created);
    expect(verifyAksk({ authorization: AUTHORIZATION_VALUE, xAksk: other }, { ...opts, replayCache: cache }).ok).toBe(
      true,
    );
  });

  it('does not remember nonces of forged headers', () => {
    const cache = new NonceReplayCache();
    const forged = xAksk({ username: appKey, digest: computeDigest('wrong', 'n9', created), nonce: 'n9', created });
    expect(verifyAksk({ authorization: AUTHORIZATION_VALUE, xAksk: forged }, { ...opts, replayCache: cache }).ok).toBe(
      false,
    );
    expect(cache.size).toBe(0);
    expect(
      verifyAksk({ authorization: AUTHORIZATION_VALUE, xAksk: signed('n9', created) }, { ...opts, replayCache: cache })
        .ok,
    ).toBe(true);
  });
});

describe('NonceReplayCache', () => {
  it('two-phase: a key counts as used only once committed; a released one may come again', () => {
    const cache = new NonceReplayCache();
    expect(cache.reserve('k', 10_000, 0)).toBe('new');
    // A copy while the first is still being handled: neither accepted nor refused as a replay.
    expect(cache.reserve('k', 10_000, 1)).toBe('pending');
    cache.release('k'); // the first was answered 503
    expect(cache.reserve('k', 10_000, 2)).toBe('new'); // the platform's retry, same headers
    cache.commit('k', 3); // accepted
    expect(cache.reserve('k', 10_000, 4)).toBe('used');
    expect(cache.checkAndRemember('k', 10_000, 5)).toBe(false);
    // Past its expiry the key is forgotten (Created is then outside the skew window anyway).
    expect(cache.reserve('k', 20_000, 10_001)).toBe('new');
    cache.release('k');
    expect(cache.size).toBe(0);
  });

  it('two-phase use against a model: only a committed key is ever refused as used', () => {
    type Op = { op: 'reserve' | 'commit' | 'release'; key: string };
    const ops = fc.array(
      fc.record({ op: fc.constantFrom('reserve', 'commit', 'release'), key: fc.constantFrom('a', 'b', 'c') }),
      { maxLength: 60 },
    );
    fc.assert(
      fc.property(ops, (list: Op[]) => {
        const cache = new NonceReplayCache();
        const used = new Set<string>();
        const pending = new Set<string>();
        for (const { op, key } of list) {
          if (op === 'reserve') {
            const expected = used.has(key) ? 'used' : pending.has(key) ? 'pending' : 'new';
            expect(cache.reserve(key, 1_000_000, 0)).toBe(expected);
            if (expected === 'new') pending.add(key);
          } else if (op === 'commit') {
            cache.commit(key, 0);
            if (pending.delete(key)) used.add(key);
          } else {
            cache.release(key);
            pending.delete(key);
          }
        }
      }),
      { numRuns: 500, seed: 13 },
    );
  });

  it('expires entries and bounds its memory', () => {
    const cache = new NonceReplayCache(3);
    expect(cache.checkAndRemember('a', 1000, 0)).toBe(true);
    expect(cache.checkAndRemember('a', 1000, 500)).toBe(false);
    expect(cache.checkAndRemember('a', 3000, 1000)).toBe(true); // expired at 1000: seen as new
    for (const k of ['b', 'c', 'd', 'e']) cache.checkAndRemember(k, 10_000, 1000);
    expect(cache.size).toBeLessThanOrEqual(3);
    expect(cache.checkAndRemember('e', 10_000, 1000)).toBe(false); // the newest survive eviction
  });
});

describe('properties', () => {
  it('any signed header verifies, with either separator, and fails with another secret', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/),
        fc.string({ minLength: 1, maxLength: 64 }),
        fc.stringMatching(/^[A-Za-z0-9]{1,128}$/),
        fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true }),
        fc.boolean(),
        (key, secret, nonce, at, spaced) => {
          const h = signHeaders({ appKey: key, appSecret: secret, nonce, now: at });
          const x = spaced ? h['X-AKSK'].replace(/",/g, '", ') : h['X-AKSK'];
          const input = { authorization: h.Authorization, xAksk: x };
          expect(verifyAksk(input, { appKey: key, appSecret: secret, now: at })).toMatchObject({ ok: true, nonce });
          const wrong = verifyAksk(input, { appKey: key, appSecret: secret + 'x', now: at });
          expect(wrong).toMatchObject({ ok: false, resultcode: AKSK_FAILURE.badDigest });
        },
      ),
      { numRuns: 200 },
    );
  });
});
