// X-AKSK (WSSE UsernameToken) signing of our requests and verification of the platform's pushes (§2).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** The fixed Authorization header value of every request and push. */
export const AUTHORIZATION_VALUE = 'AKSK realm="SDP",profile="UsernameToken",type="Appkey"';
export const DEFAULT_SKEW_SECONDS = 300;

/** Base64(HMAC-SHA256(key = appSecret, message = nonce + created)). */
export function computeDigest(secret: string, nonce: string, created: string): string {
  return createHmac('sha256', secret)
    .update(nonce + created, 'utf8')
    .digest('base64');
}

/** UTC `yyyy-MM-ddTHH:mm:ssZ`, without milliseconds. */
export function formatCreated(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A fresh 32-character upper-case hex nonce (letters and digits, like the spec's test vector). */
export function randomNonce(): string {
  return randomBytes(16).toString('hex').toUpperCase();
}

export interface SignOptions {
  appKey: string;
  appSecret: string;
  now?: Date;
  nonce?: string;
}

export interface AkskHeaders {
  Authorization: string;
  'X-AKSK': string;
}

/** The two authentication headers for one request (or one push, in the simulator). */
export function signHeaders(opts: SignOptions): AkskHeaders {
  const nonce = opts.nonce ?? randomNonce();
  const created = formatCreated(opts.now ?? new Date());
  const digest = computeDigest(opts.appSecret, nonce, created);
  // No space between attributes, as the provider's demo code sends it; the verifier accepts both spellings.
  return {
    Authorization: AUTHORIZATION_VALUE,
    'X-AKSK': `UsernameToken Username="${opts.appKey}",PasswordDigest="${digest}",Nonce="${nonce}",Created="${created}"`,
  };
}

export interface XAksk {
  username?: string;
  passwordDigest?: string;
  nonce?: string;
  created?: string;
}

/**
 * Parses `<scheme> Key="value", Key="value"…` with `,` or `, ` (any whitespace) between attributes.
 * Returns the scheme and the attributes, or null when the text is not of that shape.
 */
function parseAttributeHeader(value: string): { scheme: string; attrs: Map<string, string> } | null {
  const m = /^\s*([A-Za-z]+)\s+(.*?)\s*$/s.exec(value);
  if (!m) return null;
  const [, scheme, rest] = m;
  const attrs = new Map<string, string>();
  const re = /\s*([A-Za-z]+)\s*=\s*"([^"]*)"\s*(,|$)/y;
  let pos = 0;
  while (pos < rest.length) {
    re.lastIndex = pos;
    const a = re.exec(rest);
    if (!a) return null;
    if (attrs.has(a[1])) return null; // a repeated attribute is ambiguous: refuse rather than pick one
    attrs.set(a[1], a[2]);
    pos = re.lastIndex;
    if (a[3] === '') break;
  }
  if (pos < rest.length) return null;
  return { scheme, attrs };
}

/** Parses an X-AKSK header value; null when it is not a `UsernameToken` header at all. */
export function parseXAksk(headerValue: string): XAksk | null {
  const parsed = parseAttributeHeader(headerValue);
  if (!parsed || parsed.scheme !== 'UsernameToken') return null;
  const a = parsed.attrs;
  return {
    username: a.get('Username'),
    passwordDigest: a.get('PasswordDigest'),
    nonce: a.get('Nonce'),
    created: a.get('Created'),
  };
}

function isValidAuthorization(value: string): boolean {
  const parsed = parseAttributeHeader(value);
  if (!parsed || parsed.scheme !== 'AKSK') return false;
  const a = parsed.attrs;
  return a.get('realm') === 'SDP' && a.get('profile') === 'UsernameToken' && a.get('type') === 'Appkey';
}

/**
 * Remembers (appKey, nonce) pairs until their `Created` can no longer pass the skew window, so a captured push
 * cannot be replayed. Memory is bounded: past `maxEntries`, the oldest entries are evicted first.
 */
export class NonceReplayCache {
  private readonly entries = new Map<string, number>(); // key -> expiry (ms since epoch)
  private readonly pending = new Map<string, number>(); // reserved, in flight -> expiry

  constructor(private readonly maxEntries = 100_000) {}

  get size(): number {
    return this.entries.size;
  }

  /**
   * Two-phase use, for a receiver that must not lose a push it could not accept: `new` reserves the key (then
   * `commit` it once the push is accepted, or `release` it so that the sender's retry is taken), `used` for a
   * replay of an accepted push, `pending` while a request with the same key is still being handled.
   */
  reserve(key: string, expiresAtMs: number, nowMs: number = Date.now()): 'new' | 'used' | 'pending' {
    const existing = this.entries.get(key);
    if (existing !== undefined && existing > nowMs) return 'used';
    if (existing !== undefined) this.entries.delete(key);
    if (this.pending.has(key)) return 'pending';
    this.pending.set(key, expiresAtMs);
    return 'new';
  }

  /** The reserved key's push was accepted: from now on the key is a replay. */
  commit(key: string, nowMs: number = Date.now()): void {
    const expiresAtMs = this.pending.get(key);
    if (expiresAtMs === undefined) return;
    this.pending.delete(key);
    this.entries.delete(key);
    this.prune(nowMs);
    this.entries.set(key, expiresAtMs);
  }

  /** The reserved key's push was not accepted (refused or failed): the same headers may come again. */
  release(key: string): void {
    this.pending.delete(key);
  }

  /** True when the key is new (and now remembered until `expiresAtMs`); false for a replay. */
  checkAndRemember(key: string, expiresAtMs: number, nowMs: number = Date.now()): boolean {
    const existing = this.entries.get(key);
    if (existing !== undefined && existing > nowMs) return false;
    if (existing !== undefined) this.entries.delete(key);
    this.prune(nowMs);
    this.entries.set(key, expiresAtMs);
    return true;
  }

  private prune(nowMs: number): void {
    // Insertion order is close to expiry order (expiry = Created + skew), so sweep from the front.
    for (const [k, exp] of this.entries) {
      if (exp > nowMs && this.entries.size < this.maxEntries) break;
      this.entries.delete(k);
    }
  }
}

export interface VerifyInput {
  authorization?: string | string[];
  xAksk?: string | string[];
}

export interface VerifyOptions {
  appKey: string;
  appSecret: string;
  skewSeconds?: number;
  replayCache?: NonceReplayCache;
  now?: Date;
  /**
   * Accept a Nonce of any visible ASCII (not only letters and digits) and a Created with milliseconds. The spec
   * documents the strict forms; a receiver of the platform's pushes may prefer not to lose a genuine push over
   * an undocumented variation (the digest still covers both values).
   */
  lenient?: boolean;
}

/**
 * Result codes of a failed verification. 1023033, 1023035 and 1010013 are documented; the others of the
 * 1023006-1023038 family are our choice (the provider does not publish which code means what).
 */
export const AKSK_FAILURE = {
  badAuthorization: '1023006',
  missingXAksk: '1023033',
  malformedXAksk: '1023034',
  missingNonce: '1023035',
  badCreated: '1023036',
  missingDigest: '1023037',
  badDigest: '1023038',
  replay: '1023031',
  unknownAppKey: '1010003',
  clockSkew: '1010013',
} as const;

export type VerifyResult =
  | { ok: true; nonce: string; created: string }
  | { ok: false; resultcode: (typeof AKSK_FAILURE)[keyof typeof AKSK_FAILURE]; reason: string };

const CREATED_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;
const CREATED_MS_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,3})?Z$/;
const NONCE_RE = /^[A-Za-z0-9]{1,128}$/;
const LENIENT_NONCE_RE = /^[\x21-\x7E]{1,128}$/;

function parseCreated(created: string, lenient: boolean): number | undefined {
  if (!(lenient ? CREATED_MS_RE : CREATED_RE).test(created)) return undefined;
  const ms = Date.parse(created);
  // Date.parse accepts 2026-02-31 by rolling over; round-tripping rejects impossible dates
  const whole = created.replace(/\.\d{1,3}Z$/, 'Z');
  return Number.isNaN(ms) || formatCreated(new Date(ms)) !== whole ? undefined : ms;
}

function single(v: string | string[] | undefined): string | undefined | null {
  if (Array.isArray(v)) return v.length === 1 ? v[0] : v.length === 0 ? undefined : null;
  return v;
}

function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  // timingSafeEqual needs equal lengths; compare against ourselves to keep timing flat, then fail.
  if (ab.length !== bb.length) {
    timingSafeEqual(bb, bb);
    return false;
  }
  return timingSafeEqual(ab, bb);
}

/** Verifies the two authentication headers of an incoming request or push. Reasons never carry the digest. */
export function verifyAksk(input: VerifyInput, opts: VerifyOptions): VerifyResult {
  const fail = (resultcode: (typeof AKSK_FAILURE)[keyof typeof AKSK_FAILURE], reason: string): VerifyResult => ({
    ok: false,
    resultcode,
    reason,
  });
  const authorization = single(input.authorization);
  if (authorization === null) return fail(AKSK_FAILURE.badAuthorization, 'Authorization header repeated');
  if (authorization === undefined || authorization === '') {
    return fail(AKSK_FAILURE.badAuthorization, 'Authorization header missing');
  }
  if (!isValidAuthorization(authorization)) return fail(AKSK_FAILURE.badAuthorization, 'Authorization header invalid');

  const raw = single(input.xAksk);
  if (raw === null) return fail(AKSK_FAILURE.malformedXAksk, 'X-AKSK header repeated');
  if (raw === undefined || raw === '') return fail(AKSK_FAILURE.missingXAksk, 'X-AKSK header missing');
  const x = parseXAksk(raw);
  if (!x) return fail(AKSK_FAILURE.malformedXAksk, 'X-AKSK header malformed');
  if (!x.username) return fail(AKSK_FAILURE.malformedXAksk, 'X-AKSK Username missing');
  if (x.nonce === undefined || x.nonce === '') return fail(AKSK_FAILURE.missingNonce, 'X-AKSK Nonce missing');
  if (!(opts.lenient ? LENIENT_NONCE_RE : NONCE_RE).test(x.nonce)) {
    return fail(AKSK_FAILURE.malformedXAksk, 'X-AKSK Nonce must be 1-128 letters/digits');
  }
  if (!x.created) return fail(AKSK_FAILURE.badCreated, 'X-AKSK Created missing');
  const createdMs = parseCreated(x.created, opts.lenient ?? false);
  if (createdMs === undefined) return fail(AKSK_FAILURE.badCreated, 'X-AKSK Created not yyyy-MM-ddTHH:mm:ssZ');
  if (!x.passwordDigest) return fail(AKSK_FAILURE.missingDigest, 'X-AKSK PasswordDigest missing');
  if (!safeEqual(x.username, opts.appKey))
    return fail(AKSK_FAILURE.unknownAppKey, 'X-AKSK Username is not our app key');

  const nowMs = (opts.now ?? new Date()).getTime();
  const skewMs = (opts.skewSeconds ?? DEFAULT_SKEW_SECONDS) * 1000;
  if (Math.abs(nowMs - createdMs) > skewMs) return fail(AKSK_FAILURE.clockSkew, 'Time out limit.');

  const expected = computeDigest(opts.appSecret, x.nonce, x.created);
  if (!safeEqual(x.passwordDigest, expected)) return fail(AKSK_FAILURE.badDigest, 'X-AKSK PasswordDigest mismatch');

  // Only remembered once authentic, so forged headers cannot fill the cache or block a genuine nonce.
  if (
    opts.replayCache &&
    !opts.replayCache.checkAndRemember(`${x.username}\u0000${x.nonce}`, createdMs + skewMs, nowMs)
  ) {
    return fail(AKSK_FAILURE.replay, 'X-AKSK Nonce already used');
  }
  return { ok: true, nonce: x.nonce, created: x.created };
}
