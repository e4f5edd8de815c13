import crypto from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { BindflowError, validationError } from './errors';
import { hostHeaderName, isLoopbackHost } from '../lib/startupChecks';

// Temporal's codec server protocol (POST {endpoint}/encode and /decode, {"payloads": [...]} with base64
// metadata values and data) so that the Web UI and `temporal` CLI can show decrypted payloads to operators.

const WirePayload = z.object({
  metadata: z.record(z.string().base64()).default({}),
  data: z.string().base64().default(''),
});
/** The body of /codec/encode and /codec/decode (also in the OpenAPI document). */
export const WireBody = z.object({ payloads: z.array(WirePayload).max(1000) });

export interface CodecServerOptions {
  codec: PayloadCodec;
  authorize: (req: FastifyRequest) => void;
  /** Origins of the Web UI allowed by CORS (credentials included). */
  corsOrigins: string[];
  /**
   * Local development only (`bindflow dev`, every listener on loopback): a browser request from an allowed Web UI
   * origin to a loopback Host (127.0.0.1, localhost, [::1]) needs no token, so the bundled UI decodes without
   * set-up. Any other Host needs the token, whatever the Origin says (an Origin header is easily forged outside a
   * browser). The caller turns this on only while no listener is bound to a non-loopback address.
   */
  trustUiOrigin?: boolean;
  /**
   * Largest request body. Payloads reach 2 MB (Temporal's default blob limit) and the UI and CLI send several
   * at once, so the API's small default limit would leave long runs (many calls) undecodable. Default 8 MiB.
   */
  bodyLimitBytes?: number;
}

function fromWire(p: z.infer<typeof WirePayload>): Payload {
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: Buffer.from(p.data, 'base64'),
  };
}

function toWire(p: Payload) {
  return {
    metadata: Object.fromEntries(
      Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')]),
    ),
    data: Buffer.from(p.data ?? []).toString('base64'),
  };
}

export function registerCodecServer(app: FastifyInstance, opts: CodecServerOptions): void {
  const allowed = new Set(opts.corsOrigins);
  const cors = (req: FastifyRequest, reply: FastifyReply) => {
    const origin = req.headers.origin;
    if (origin && allowed.has(origin)) {
      void reply.header('access-control-allow-origin', origin);
      void reply.header('access-control-allow-credentials', 'true');
      void reply.header('vary', 'Origin');
    }
  };
  const handle = (op: 'encode' | 'decode') => async (req: FastifyRequest, reply: FastifyReply) => {
    cors(req, reply);
    const host = hostHeaderName(req.headers.host);
    const fromTrustedUi =
      opts.trustUiOrigin === true &&
      req.headers.origin !== undefined &&
      allowed.has(req.headers.origin) &&
      host !== undefined &&
      isLoopbackHost(host);
    if (!fromTrustedUi) opts.authorize(req);
    const body = WireBody.safeParse(req.body);
    if (!body.success) throw validationError(body.error.issues);
    try {
      const payloads = await opts.codec[op](body.data.payloads.map(fromWire));
      return { payloads: payloads.map(toWire) };
    } catch (err) {
      throw new BindflowError('VALIDATION_FAILED', `cannot ${op}: ${(err as Error).message}`);
    }
  };
  for (const op of ['encode', 'decode'] as const) {
    app.options(`/codec/${op}`, async (req, reply) => {
      cors(req, reply);
      void reply.header('access-control-allow-methods', 'POST, OPTIONS');
      void reply.header('access-control-allow-headers', 'content-type, x-namespace, authorization');
      void reply.header('access-control-max-age', '600');
      return reply.code(204).send();
    });
    app.post(`/codec/${op}`, { bodyLimit: opts.bodyLimitBytes ?? 8 * 1024 * 1024 }, handle(op));
  }
}

/** A bearer-token check (constant time) answering 401 UNAUTHORIZED: the codec server's own BINDFLOW_CODEC_TOKEN. */
export function bearerAuthorizer(token: string): (req: FastifyRequest) => void {
  const expected = Buffer.from(token);
  return (req) => {
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    const given = Buffer.from(m ? m[1] : '');
    if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected))
      throw new BindflowError('UNAUTHORIZED', 'missing or wrong bearer token');
  };
}
