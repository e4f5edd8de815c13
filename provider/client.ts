// The AXYB wire client on undici: one keep-alive pool per origin, every call bounded in time, TLS verified,
// every answer parsed with zod, every failure one ProviderError that the orchestrator can act on.
import { rootCertificates } from 'node:tls';
import * as otel from '@opentelemetry/api';
import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import type { z } from 'zod';
import { parseXAksk, signHeaders } from './aksk';
import { LOCAL_CODES, ProviderError, errorFromResult, isBindApi, isProviderError } from './resultCodes';
import type { ProviderApi } from './resultCodes';
import {
  AxBindRequestSchema,
  BindResponseSchema,
  PATHS,
  QueryParamsSchema,
  QueryResponseSchema,
  RecordUrlParamsSchema,
  ResultEnvelopeSchema,
  UnbindParamsSchema,
  YbBindRequestSchema,
  describeZodError,
  fieldFromResultDesc,
  firstBadField,
} from './schemas';
import type {
  AxBindRequest,
  QueryParams,
  RecordUrlParams,
  RelationEntry,
  UnbindParams,
  YbBindRequest,
} from './schemas';

export interface PrivateNumberClientOptions {
  /** e.g. `https://rtcpns.cn-north-1.myhuaweicloud.com`; a path prefix is kept (gateways, the simulator). */
  baseUrl: string;
  appKey: string;
  appSecret: string;
  /** Extra CA (PEM) to trust besides the public roots, e.g. a test CA; the certificate is always verified. */
  ca?: string | Buffer;
  connectTimeoutMs?: number;
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
  /**
   * Ceiling on a whole call (connect + answer), against an answer that trickles in just under the body timeout.
   * Default: the sum of the three timeouts.
   */
  totalTimeoutMs?: number;
  /** Clock for the X-AKSK `Created` (tests, or a corrected clock after 1010013). */
  now?: () => Date;
  /** Keep-alive connections to the origin. */
  connections?: number;
  /** Answers above this size are refused (the provider's are small JSON). */
  maxResponseBytes?: number;
}

export interface BindResult {
  subscriptionId: string;
  /** X after an AX bind, Y after a YB bind. */
  relationNumber: string;
}

export const CLIENT_DEFAULTS = {
  connectTimeoutMs: 5_000,
  headersTimeoutMs: 10_000,
  bodyTimeoutMs: 10_000,
  connections: 16,
  keepAliveTimeoutMs: 30_000,
  maxResponseBytes: 1024 * 1024,
} as const;

const CONTENT_TYPE = 'application/json;charset=UTF-8';
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

// Failures before any byte of the request could reach the platform: safe to retry, even a bind.
const CONNECT_ERRORS = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
]);
const TIMEOUT_ERRORS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);
const TLS_ERROR_RE = /CERT|SELF_SIGNED|UNABLE_TO_|ERR_TLS|ERR_SSL|EPROTO/;

interface RawAnswer {
  status: number;
  headers: Dispatcher.ResponseData['headers'];
  text: string;
  /** The secret and the digest of this attempt, scrubbed from any error text. */
  redact: string[];
}

/** `k=v&…` with RFC 3986 encoding: a `+` in a number is sent as `%2B` (a bare `+` would read as a space). */
function queryString(params: ReadonlyArray<readonly [string, string | undefined]>): string {
  return params
    .filter((p): p is readonly [string, string] => p[1] !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');
}

function headerValue(h: string | string[] | undefined): string | undefined {
  return Array.isArray(h) ? h[0] : h;
}

export class PrivateNumberClient {
  private readonly pool: Pool;
  private readonly basePath: string;
  private readonly origin: string;
  private readonly appKey: string;
  private readonly appSecret: string;
  private readonly now: () => Date;
  private readonly headersTimeoutMs: number;
  private readonly bodyTimeoutMs: number;
  private readonly totalTimeoutMs: number;
  private readonly maxResponseBytes: number;

  constructor(opts: PrivateNumberClientOptions) {
    const url = new URL(opts.baseUrl);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('baseUrl must be http(s)');
    if (!opts.appKey || !opts.appSecret) throw new Error('appKey and appSecret are required');
    this.origin = url.origin;
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.appKey = opts.appKey;
    this.appSecret = opts.appSecret;
    this.now = opts.now ?? (() => new Date());
    this.headersTimeoutMs = opts.headersTimeoutMs ?? CLIENT_DEFAULTS.headersTimeoutMs;
    this.bodyTimeoutMs = opts.bodyTimeoutMs ?? CLIENT_DEFAULTS.bodyTimeoutMs;
    this.maxResponseBytes = opts.maxResponseBytes ?? CLIENT_DEFAULTS.maxResponseBytes;
    const connectTimeoutMs = opts.connectTimeoutMs ?? CLIENT_DEFAULTS.connectTimeoutMs;
    this.totalTimeoutMs = opts.totalTimeoutMs ?? connectTimeoutMs + this.headersTimeoutMs + this.bodyTimeoutMs;
    this.pool = new Pool(this.origin, {
      connections: opts.connections ?? CLIENT_DEFAULTS.connections,
      keepAliveTimeout: CLIENT_DEFAULTS.keepAliveTimeoutMs,
      headersTimeout: this.headersTimeoutMs,
      bodyTimeout: this.bodyTimeoutMs,
      connect: {
        timeout: connectTimeoutMs,
        rejectUnauthorized: true,
        // An extra CA adds to the public roots (a private gateway, the tests) rather than replacing them.
        ...(opts.ca !== undefined ? { ca: [...rootCertificates, opts.ca.toString()] } : {}),
      },
    });
  }

  /** Step 1: binds A to a new X of `areaCode`. Not idempotent: see ProviderError.outcomeUnknown. */
  async bindAx(req: AxBindRequest): Promise<BindResult> {
    return this.traced('bindAx', 'POST', () => this.bind('bindAx', this.validate('bindAx', AxBindRequestSchema, req)));
  }

  /** Step 2: binds B to a Y under an existing AX subscription. Not idempotent. */
  async bindYb(req: YbBindRequest): Promise<BindResult> {
    return this.traced('bindYb', 'POST', () => this.bind('bindYb', this.validate('bindYb', YbBindRequestSchema, req)));
  }

  /**
   * Removes the whole AXYB (subscriptionId alone) or one YB (yNum, or bNum). A binding that does not exist
   * (1016001) throws a ProviderError with `notFound: true`: callers that only want it gone treat that as success.
   */
  async unbind(params: UnbindParams): Promise<void> {
    return this.traced('unbind', 'DELETE', () => this.unbindOnce(params));
  }

  private async unbindOnce(params: UnbindParams): Promise<void> {
    const p = this.validate('unbind', UnbindParamsSchema, params);
    const qs = queryString([
      ['subscriptionId', p.subscriptionId],
      ['yNum', p.yNum],
      ['bNum', p.bNum],
      ['app_key', this.appKey],
    ]);
    const raw = await this.send('unbind', 'DELETE', `${PATHS.relation}?${qs}`);
    this.expectSuccess('unbind', raw, ResultEnvelopeSchema);
  }

  /**
   * The bindings of a subscription or of an X. An unknown subscription or X (1016001) throws a ProviderError with
   * `notFound: true` rather than returning [], so "gone" is never confused with a malformed or empty answer.
   */
  async query(params: QueryParams): Promise<RelationEntry[]> {
    return this.traced('query', 'GET', () => this.queryOnce(params));
  }

  private async queryOnce(params: QueryParams): Promise<RelationEntry[]> {
    const p = this.validate('query', QueryParamsSchema, params);
    const qs = queryString([
      ['subscriptionId', p.subscriptionId],
      ['relationNum', p.relationNum],
      ['app_key', this.appKey],
    ]);
    const raw = await this.send('query', 'GET', `${PATHS.relation}?${qs}`);
    return this.expectSuccess('query', raw, QueryResponseSchema).xyRelationNumList;
  }

  /** The download URL of a recording: the `Location` of the platform's 301, which is never followed. */
  async recordingUrl(params: RecordUrlParams): Promise<string> {
    return this.traced('recordingUrl', 'GET', () => this.recordingUrlOnce(params));
  }

  private async recordingUrlOnce(params: RecordUrlParams): Promise<string> {
    const p = this.validate('recordingUrl', RecordUrlParamsSchema, params);
    // The spec puts app_key in the query of bind, unbind and query only; the demo sends none here either.
    const qs = queryString([
      ['recordDomain', p.recordDomain],
      ['fileName', p.fileName],
    ]);
    const raw = await this.send('recordingUrl', 'GET', `${PATHS.recordUrl}?${qs}`);
    if (REDIRECT_STATUSES.has(raw.status)) {
      const location = headerValue(raw.headers.location);
      let url: URL | undefined;
      try {
        url = location ? new URL(location, this.origin) : undefined;
      } catch {
        url = undefined;
      }
      if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
        throw this.badResponse(
          'recordingUrl',
          raw.status,
          `redirect without a usable Location (HTTP ${raw.status})`,
          raw.redact,
        );
      }
      return url.toString();
    }
    // Not a redirect: the JSON envelope carries the failure (1012007 …); a "0" without Location is garbage.
    this.expectSuccess('recordingUrl', raw, ResultEnvelopeSchema);
    throw this.badResponse(
      'recordingUrl',
      raw.status,
      `success answer without a redirect (HTTP ${raw.status})`,
      raw.redact,
    );
  }

  /** Closes the keep-alive connections. */
  async close(): Promise<void> {
    await this.pool.close();
  }

  // ---------------------------------------------------------------- internals

  /**
   * One client span per call (OpenTelemetry; a no-op unless a tracer provider is registered): the API, method,
   * host, HTTP status and result code. Never the URL's query or a body, which hold numbers.
   */
  private traced<T>(api: ProviderApi, method: string, call: () => Promise<T>): Promise<T> {
    const url = new URL(this.origin);
    return otel.trace.getTracer('bindflow').startActiveSpan(
      `provider ${api}`,
      {
        kind: otel.SpanKind.CLIENT,
        attributes: {
          'bindflow.provider.api': api,
          'http.request.method': method,
          'server.address': url.hostname,
          'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
        },
      },
      async (span) => {
        try {
          const r = await call();
          span.setAttribute('bindflow.provider.result_code', '0');
          return r;
        } catch (err) {
          if (isProviderError(err)) {
            span.setAttributes({ 'bindflow.provider.result_code': err.code, 'error.type': err.code });
            if (err.httpStatus) span.setAttribute('http.response.status_code', err.httpStatus);
          }
          // 1016001 "does not exist" is an answer, not a failure of the call.
          if (!(isProviderError(err) && err.notFound))
            span.setStatus({ code: otel.SpanStatusCode.ERROR, message: (err as Error).message });
          throw err;
        } finally {
          span.end();
        }
      },
    );
  }

  private async bind(api: 'bindAx' | 'bindYb', body: unknown): Promise<BindResult> {
    const qs = queryString([['app_key', this.appKey]]);
    const raw = await this.send(api, 'POST', `${PATHS.relation}?${qs}`, JSON.stringify(body));
    const ok = this.expectSuccess(api, raw, BindResponseSchema);
    return { subscriptionId: ok.subscriptionId, relationNumber: ok.relationNumber };
  }

  /** Validates our own request; a failure names the field and nothing is sent. */
  private validate<S extends z.ZodTypeAny>(api: ProviderApi, schema: S, value: unknown): z.output<S> {
    const r = schema.safeParse(value);
    if (r.success) return r.data;
    throw new ProviderError({
      api,
      code: LOCAL_CODES.requestInvalid,
      description: `invalid request: ${describeZodError(r.error)}`,
      field: firstBadField(r.error),
      retryable: false,
      redact: [this.appSecret],
    });
  }

  private async send(
    api: ProviderApi,
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    body?: string,
  ): Promise<RawAnswer> {
    // Signed per attempt: a fresh nonce and Created each time (a retried request must not reuse them).
    const auth = signHeaders({ appKey: this.appKey, appSecret: this.appSecret, now: this.now() });
    const redact = [this.appSecret, parseXAksk(auth['X-AKSK'])?.passwordDigest ?? ''];
    const headers: Record<string, string> = {
      'content-type': CONTENT_TYPE, // on GET and DELETE too, as the platform requires
      accept: 'application/json',
      authorization: auth.Authorization,
      'x-aksk': auth['X-AKSK'],
    };
    try {
      const res = await this.pool.request({
        method,
        path: this.basePath + path,
        headers,
        ...(body !== undefined ? { body } : {}),
        headersTimeout: this.headersTimeoutMs,
        bodyTimeout: this.bodyTimeoutMs,
        signal: AbortSignal.timeout(this.totalTimeoutMs),
      });
      otel.trace.getActiveSpan()?.setAttribute('http.response.status_code', res.statusCode);
      const text = await this.readBody(api, res, redact);
      return { status: res.statusCode, headers: res.headers, text, redact };
    } catch (err) {
      if (isProviderError(err)) throw err;
      throw this.transportError(api, err, redact);
    }
  }

  private async readBody(api: ProviderApi, res: Dispatcher.ResponseData, redact: string[]): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      size += buf.length;
      if (size > this.maxResponseBytes) {
        res.body.destroy();
        throw this.badResponse(api, res.statusCode, `answer larger than ${this.maxResponseBytes} bytes`, redact);
      }
      chunks.push(buf);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  private transportError(api: ProviderApi, err: unknown, redact: string[]): ProviderError {
    const e = err as { code?: unknown; message?: unknown };
    const code = typeof e?.code === 'string' ? e.code : '';
    const message = typeof e?.message === 'string' ? e.message : String(err);
    const bind = isBindApi(api);
    if (CONNECT_ERRORS.has(code)) {
      return new ProviderError({
        api,
        code: LOCAL_CODES.connect,
        description: `could not connect (${code}): nothing was sent`,
        retryable: true,
        outcomeUnknown: false,
        redact,
        cause: err,
      });
    }
    if (TLS_ERROR_RE.test(code)) {
      return new ProviderError({
        api,
        code: LOCAL_CODES.tls,
        description: `TLS verification failed (${code}); check the CA and the host name`,
        retryable: false,
        outcomeUnknown: false,
        redact,
        cause: err,
      });
    }
    // AbortSignal.timeout rejects with a DOMException named TimeoutError (the total ceiling)
    const name = typeof (err as { name?: unknown })?.name === 'string' ? (err as { name: string }).name : '';
    const timeout = TIMEOUT_ERRORS.has(code) || name === 'TimeoutError';
    return new ProviderError({
      api,
      code: timeout ? LOCAL_CODES.timeout : LOCAL_CODES.network,
      description:
        (timeout
          ? `no complete answer in time (${code || name})`
          : `connection failed (${code || 'unknown'}: ${message})`) + (bind ? '; the bind may have taken effect' : ''),
      retryable: true,
      outcomeUnknown: bind,
      redact,
      cause: err,
    });
  }

  private badResponse(api: ProviderApi, status: number, description: string, redact: string[]): ProviderError {
    // A 4xx that is not the provider's JSON means we reached something else (wrong URL, a proxy refusing us):
    // retrying will not help. Anything else (502 page, empty 200) is a transport fault: retry, and for a bind
    // assume it may have gone through.
    const retryable = !(status >= 400 && status < 500);
    return new ProviderError({
      api,
      code: LOCAL_CODES.badResponse,
      description,
      httpStatus: status,
      retryable,
      outcomeUnknown: retryable && isBindApi(api),
      redact,
    });
  }

  /** Parses the JSON envelope; a non-zero resultcode becomes its ProviderError, success is parsed with `schema`. */
  private expectSuccess<S extends z.ZodTypeAny>(api: ProviderApi, raw: RawAnswer, schema: S): z.output<S> {
    const contentType = headerValue(raw.headers['content-type']) ?? 'no content-type';
    if (raw.text.trim() === '') {
      throw this.badResponse(api, raw.status, `empty answer (HTTP ${raw.status}, ${contentType})`, raw.redact);
    }
    let json: unknown;
    try {
      json = JSON.parse(raw.text);
    } catch {
      const snippet = raw.text.replace(/\s+/g, ' ').trim().slice(0, 60);
      throw this.badResponse(
        api,
        raw.status,
        `non-JSON answer (HTTP ${raw.status}, ${contentType}): "${snippet}"`,
        raw.redact,
      );
    }
    const env = ResultEnvelopeSchema.safeParse(json);
    if (!env.success) {
      throw this.badResponse(api, raw.status, `JSON answer without resultcode (HTTP ${raw.status})`, raw.redact);
    }
    const { resultcode, resultdesc } = env.data;
    if (resultcode !== '0') {
      const field = resultcode === '1010002' ? fieldFromResultDesc(resultdesc) : undefined;
      throw errorFromResult(api, resultcode, resultdesc, raw.status, field, raw.redact);
    }
    const ok = schema.safeParse(json);
    if (!ok.success) {
      throw this.badResponse(
        api,
        raw.status,
        `success answer does not match the spec: ${describeZodError(ok.error)}`,
        raw.redact,
      );
    }
    return ok.data;
  }
}
