import crypto from 'node:crypto';
import Fastify from 'fastify';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { codecKey, EncryptionCodec, ENCODING } from '../../lib/codec';
import { bearerAuthorizer, registerCodecServer } from '../../client/codecServer';
import { BindflowError } from '../../client/errors';

const newKey = () => codecKey(crypto.randomBytes(32).toString('base64'));
const NUMBER = '+8613800000001';

describe('payload encryption codec (AES-256-GCM)', () => {
  test('encrypts so the number is not in the stored bytes, and decrypts back', async () => {
    const codec = new EncryptionCodec(newKey());
    const payload = defaultPayloadConverter.toPayload({ partyA: NUMBER });
    const [enc] = await codec.encode([payload]);
    expect(Buffer.from(enc.metadata!.encoding!).toString()).toBe(ENCODING);
    expect(Buffer.from(enc.data!).toString('latin1')).not.toContain(NUMBER);
    const [dec] = await codec.decode([enc]);
    expect(defaultPayloadConverter.fromPayload(dec)).toEqual({ partyA: NUMBER });
  });

  test('old payloads still decode after a key rotation; an unknown key is a clear error', async () => {
    const oldKey = newKey();
    const [enc] = await new EncryptionCodec(oldKey).encode([defaultPayloadConverter.toPayload('x')]);
    const rotated = new EncryptionCodec(newKey(), [oldKey]);
    expect(defaultPayloadConverter.fromPayload((await rotated.decode([enc]))[0])).toBe('x');
    await expect(new EncryptionCodec(newKey()).decode([enc])).rejects.toThrow(/no payload key with id/);
  });

  test('tampered ciphertext is rejected; plain payloads pass through decode', async () => {
    const codec = new EncryptionCodec(newKey());
    const [enc] = await codec.encode([defaultPayloadConverter.toPayload('secret')]);
    const data = Buffer.from(enc.data!);
    data[20] ^= 0xff;
    await expect(codec.decode([{ ...enc, data }])).rejects.toThrow();
    const plain = defaultPayloadConverter.toPayload('plain');
    expect(await codec.decode([plain])).toEqual([plain]);
  });

  test('raw bytes (the bound view memo) are left in clear; every other payload, strings and objects, is sealed', async () => {
    const codec = new EncryptionCodec(newKey());
    const bytes = defaultPayloadConverter.toPayload(new TextEncoder().encode('{"state":"bound"}'));
    const [json, text, raw] = await codec.encode([
      defaultPayloadConverter.toPayload({ partyA: NUMBER }),
      defaultPayloadConverter.toPayload(NUMBER),
      bytes,
    ]);
    expect(Buffer.from(json.metadata!.encoding!).toString()).toBe(ENCODING);
    expect(Buffer.from(text.metadata!.encoding!).toString()).toBe(ENCODING);
    expect(raw).toEqual(bytes);
    expect(Buffer.from(raw.metadata!.encoding!).toString()).toBe('binary/plain');
  });
});

describe('codec server protocol', () => {
  const codec = new EncryptionCodec(newKey());
  const build = (trustUiOrigin = false) => {
    const app = Fastify();
    registerCodecServer(app, {
      codec,
      corsOrigins: ['http://127.0.0.1:8233'],
      trustUiOrigin,
      authorize: (req) => {
        if (req.headers.authorization !== 'Bearer t') throw new BindflowError('UNAUTHORIZED', 'no');
      },
    });
    app.setErrorHandler((err: BindflowError, _req, reply) => void reply.code(err.status ?? 500).send(err.toJSON?.()));
    return app;
  };
  const wire = (p: Payload) => ({
    metadata: Object.fromEntries(
      Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v!).toString('base64')]),
    ),
    data: Buffer.from(p.data!).toString('base64'),
  });

  test('decode with the token returns the clear payload; without it 401', async () => {
    const app = build();
    const [enc] = await codec.encode([defaultPayloadConverter.toPayload({ n: NUMBER })]);
    const body = { payloads: [wire(enc)] };
    const denied = await app.inject({
      method: 'POST',
      url: '/codec/decode',
      payload: body,
      headers: { origin: 'http://127.0.0.1:8233' },
    });
    expect(denied.statusCode).toBe(401);
    const ok = await app.inject({
      method: 'POST',
      url: '/codec/decode',
      payload: body,
      headers: { authorization: 'Bearer t', origin: 'http://127.0.0.1:8233' },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['access-control-allow-origin']).toBe('http://127.0.0.1:8233');
    const out = ok.json().payloads[0];
    expect(Buffer.from(out.data, 'base64').toString()).toContain(NUMBER);
  });

  test('encode then decode round-trips; CORS preflight echoes only allowed origins', async () => {
    const app = build();
    const plain = wire(defaultPayloadConverter.toPayload('hello'));
    const enc = await app.inject({
      method: 'POST',
      url: '/codec/encode',
      payload: { payloads: [plain] },
      headers: { authorization: 'Bearer t' },
    });
    const dec = await app.inject({
      method: 'POST',
      url: '/codec/decode',
      payload: enc.json(),
      headers: { authorization: 'Bearer t' },
    });
    expect(dec.json().payloads[0]).toEqual(plain);
    const pre = await app.inject({
      method: 'OPTIONS',
      url: '/codec/decode',
      headers: { origin: 'http://127.0.0.1:8233', 'access-control-request-method': 'POST' },
    });
    expect(pre.statusCode).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe('http://127.0.0.1:8233');
    const evil = await app.inject({
      method: 'OPTIONS',
      url: '/codec/decode',
      headers: { origin: 'http://evil.example' },
    });
    expect(evil.headers['access-control-allow-origin']).toBeUndefined();
  });

  test('in dev trust mode the Web UI origin needs no token, other origins still do', async () => {
    const app = build(true);
    const body = { payloads: [wire(defaultPayloadConverter.toPayload(1))] };
    expect(
      (
        await app.inject({
          method: 'POST',
          url: '/codec/decode',
          payload: body,
          headers: { origin: 'http://127.0.0.1:8233' },
        })
      ).statusCode,
    ).toBe(200);
    expect(
      (
        await app.inject({
          method: 'POST',
          url: '/codec/decode',
          payload: body,
          headers: { origin: 'http://evil.example' },
        })
      ).statusCode,
    ).toBe(401);
    expect((await app.inject({ method: 'POST', url: '/codec/decode', payload: body })).statusCode).toBe(401);
  });

  test('even in dev trust mode, a request whose Host is not a loopback name needs the token, whatever the Origin', async () => {
    const app = build(true);
    const body = { payloads: [wire(defaultPayloadConverter.toPayload(1))] };
    const post = (host: string, extra: Record<string, string> = {}) =>
      app.inject({
        method: 'POST',
        url: '/codec/decode',
        payload: body,
        headers: { host, origin: 'http://127.0.0.1:8233', ...extra },
      });
    // A forged Origin sent to a name or address other machines reach: refused.
    for (const host of [
      'bindflow.example.com',
      '10.0.0.5:3000',
      '0.0.0.0:3000',
      '[fd00::1]:3000',
      'localhost.evil.example',
    ])
      expect((await post(host)).statusCode).toBe(401);
    // The token still works there.
    expect((await post('bindflow.example.com', { authorization: 'Bearer t' })).statusCode).toBe(200);
    // Loopback names, with or without a port.
    for (const host of ['127.0.0.1:3000', 'localhost:3000', '[::1]:3000', 'localhost'])
      expect((await post(host)).statusCode).toBe(200);
  });

  test('the codec token: constant-time bearer check, 401 otherwise', async () => {
    const app = Fastify();
    registerCodecServer(app, { codec, corsOrigins: [], authorize: bearerAuthorizer('codec-token-0123456789') });
    app.setErrorHandler((err: BindflowError, _req, reply) => void reply.code(err.status ?? 500).send(err.toJSON?.()));
    const body = { payloads: [wire(defaultPayloadConverter.toPayload(1))] };
    const post = (authorization?: string) =>
      app.inject({
        method: 'POST',
        url: '/codec/decode',
        payload: body,
        headers: authorization ? { authorization } : {},
      });
    expect((await post('Bearer codec-token-0123456789')).statusCode).toBe(200);
    for (const a of [
      undefined,
      'Bearer codec-token-012345678',
      'Bearer codec-token-01234567890',
      'codec-token-0123456789',
    ])
      expect((await post(a)).statusCode).toBe(401);
  });
});
