// The provider's result codes (§7) and what a caller should do about each: one typed error for everything.
import { maskText } from './mask';

/**
 * - success: "0".
 * - permanent: repeating the same request cannot help.
 * - resources: permanent for this request, but another area or areaMatchMode "1" may succeed.
 * - notFound: the binding does not exist (on unbind: already gone, which is success for the caller).
 * - clock: Created too far from the server's time; fix the clock, re-sign (a fresh header) and retry.
 * - blocked: IP blocked after repeated authentication failures; retry after 30 minutes.
 * - throttled: flow control; retry not before 60 s.
 * - transient: platform fault; retry with backoff.
 */
export type ResultClass =
  'success' | 'permanent' | 'resources' | 'notFound' | 'clock' | 'blocked' | 'throttled' | 'transient';

export interface ResultCodeEntry {
  code: string;
  httpStatus: number;
  description: string;
  class: ResultClass;
}

export const RETRY_AFTER_THROTTLED_MS = 60_000;
export const RETRY_AFTER_BLOCKED_MS = 30 * 60_000;

const e = (code: string, httpStatus: number, cls: ResultClass, description: string): ResultCodeEntry => ({
  code,
  httpStatus,
  description,
  class: cls,
});

/**
 * The spec's table. HTTP statuses follow §7's rule (200 success, 400 header/auth, 403 business and parameter,
 * 500 platform); where the rule leaves it open (1010003, 1010013, 1020176) the choice is noted.
 */
export const RESULT_CODES: readonly ResultCodeEntry[] = [
  e('0', 200, 'success', 'Success'),
  e('1010013', 400, 'clock', 'Time out limit.'), // a header (Created) fault: 400
  e('1020176', 400, 'blocked', 'IP blocked after repeated authentication failures'), // an auth fault: 400 [choice]
  e('1020166', 403, 'permanent', 'Caller IP not in the app allow-list'),
  e('1010002', 403, 'permanent', 'Invalid request'),
  e('1010003', 400, 'permanent', 'Invalid app_key'), // authentication of the app: 400 [choice]
  e('1010008', 403, 'permanent', 'app_key status unavailable'),
  e('1010029', 403, 'permanent', 'Subscriber frozen'),
  e('1010040', 403, 'permanent', 'app_key not allowed on this API'),
  e('1011002', 403, 'resources', 'Insufficient number resources'),
  e('1012008', 403, 'resources', 'Insufficient number resources'),
  e('1011003', 403, 'permanent', 'A already holds the maximum number of X'),
  e('1012001', 403, 'permanent', 'Number not owned by this app'),
  e('1012010', 403, 'permanent', 'Relation already bound'),
  e('1016001', 403, 'notFound', 'Binding does not exist'),
  e('1016002', 403, 'permanent', 'Binding already exists'),
  e('1012012', 403, 'permanent', 'Recording not enabled on the app'),
  e('1012007', 403, 'permanent', 'Recording not found'),
  e('1012102', 403, 'permanent', 'Number abnormal or blacklisted'),
  e('1010010', 403, 'throttled', 'Platform flow control reached'),
  e('1010001', 500, 'transient', 'Internal system error'),
  e('1023001', 500, 'transient', 'Internal error'),
  e('1023002', 500, 'transient', 'Response timeout'),
];

/** 1023006-1023038: Authorization / X-AKSK header missing or malformed (permanent, HTTP 400). */
export const AUTH_HEADER_RANGE = { from: 1023006, to: 1023038 } as const;

const BY_CODE = new Map(RESULT_CODES.map((r) => [r.code, r]));

export function lookupResultCode(code: string): ResultCodeEntry | undefined {
  const known = BY_CODE.get(code);
  if (known) return known;
  if (/^\d{7}$/.test(code)) {
    const n = Number(code);
    if (n >= AUTH_HEADER_RANGE.from && n <= AUTH_HEADER_RANGE.to) {
      return e(code, 400, 'permanent', 'Authorization or X-AKSK header missing or malformed');
    }
  }
  return undefined;
}

export interface Classification {
  code: string;
  class: ResultClass;
  known: boolean;
  httpStatus: number;
  description: string;
  retryable: boolean;
  /** Do not retry before this delay; undefined = use the caller's own backoff. */
  retryAfterMs?: number;
  permanent: boolean;
  notFound: boolean;
  /** The request must be re-signed before retrying (a fresh Created); every attempt of our client does that. */
  resign: boolean;
}

/**
 * Classifies a result code. An unknown code is judged by the HTTP status it came with: a 5xx is transient,
 * anything else permanent (retrying an unknown business refusal would only repeat it).
 */
export function classifyResult(code: string, httpStatus?: number): Classification {
  const entry = lookupResultCode(code);
  const cls: ResultClass = entry?.class ?? (httpStatus !== undefined && httpStatus >= 500 ? 'transient' : 'permanent');
  const retryable = cls === 'transient' || cls === 'throttled' || cls === 'blocked' || cls === 'clock';
  const retryAfterMs =
    cls === 'throttled'
      ? RETRY_AFTER_THROTTLED_MS
      : cls === 'blocked'
        ? RETRY_AFTER_BLOCKED_MS
        : cls === 'clock'
          ? 0
          : undefined;
  return {
    code,
    class: cls,
    known: entry !== undefined,
    httpStatus: entry?.httpStatus ?? httpStatus ?? 0,
    description: entry?.description ?? 'Unknown result code',
    retryable,
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    permanent: cls !== 'success' && !retryable,
    notFound: cls === 'notFound',
    resign: cls === 'clock',
  };
}

export type ProviderApi = 'bindAx' | 'bindYb' | 'unbind' | 'query' | 'recordingUrl';

/** Codes for failures that are not a provider result code. */
export const LOCAL_CODES = {
  /** Our own request failed validation; nothing was sent. */
  requestInvalid: 'REQUEST_INVALID',
  /** Could not connect (refused, DNS, connect timeout): nothing reached the platform. */
  connect: 'CONNECT_FAILED',
  /** Sent, but no (complete) answer in time, or the connection broke mid-exchange. */
  timeout: 'TIMEOUT',
  network: 'NETWORK_ERROR',
  /** TLS verification failed: a configuration problem, not worth retrying blindly. */
  tls: 'TLS_ERROR',
  /** The answer was not the JSON the spec describes (HTML error page, empty body, wrong shape). */
  badResponse: 'BAD_RESPONSE',
} as const;
export type LocalCode = (typeof LOCAL_CODES)[keyof typeof LOCAL_CODES];

export interface ProviderErrorInit {
  api: ProviderApi;
  code: string;
  description: string;
  httpStatus?: number;
  field?: string;
  retryable: boolean;
  retryAfterMs?: number;
  /** True when the request may have taken effect although we saw no success (a bind that timed out). */
  outcomeUnknown?: boolean;
  notFound?: boolean;
  resultClass?: ResultClass | 'local';
  /** Strings to scrub from the description (the app secret, the digest sent). */
  redact?: readonly string[];
  cause?: unknown;
}

/** Scrubs given secrets and masks every phone-like number of a text meant for an error message or a log. */
export function sanitize(text: string, redact: readonly string[] = []): string {
  let out = text;
  for (const s of redact) if (s && s.length >= 4) out = out.split(s).join('[redacted]');
  return maskText(out);
}

/** The one error type of the provider client. Its message never carries a secret, a digest or a clear number. */
export class ProviderError extends Error {
  readonly api: ProviderApi;
  readonly code: string;
  readonly description: string;
  readonly httpStatus: number;
  readonly field?: string;
  readonly retryable: boolean;
  readonly retryAfterMs?: number;
  readonly outcomeUnknown: boolean;
  readonly notFound: boolean;
  readonly resultClass: ResultClass | 'local';

  constructor(init: ProviderErrorInit) {
    const description = sanitize(init.description, init.redact);
    const field = init.field === undefined ? undefined : sanitize(init.field, init.redact);
    super(
      `${init.api} failed: ${init.code}${init.httpStatus ? ` (HTTP ${init.httpStatus})` : ''} ${description}` +
        (field ? ` [field ${field}]` : ''),
    );
    this.name = 'ProviderError';
    this.api = init.api;
    this.code = init.code;
    this.description = description;
    this.httpStatus = init.httpStatus ?? 0;
    if (field !== undefined) this.field = field;
    this.retryable = init.retryable;
    if (init.retryAfterMs !== undefined) this.retryAfterMs = init.retryAfterMs;
    this.outcomeUnknown = init.outcomeUnknown ?? false;
    this.notFound = init.notFound ?? false;
    this.resultClass = init.resultClass ?? 'local';
    // The cause is kept for debugging but not serialised into the message (it may quote a URL with numbers).
    if (init.cause !== undefined) Object.defineProperty(this, 'cause', { value: init.cause, enumerable: false });
  }

  /** Plain, masked fields: what to put in a log line or a Temporal failure's details. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      api: this.api,
      code: this.code,
      description: this.description,
      httpStatus: this.httpStatus,
      field: this.field,
      retryable: this.retryable,
      retryAfterMs: this.retryAfterMs,
      outcomeUnknown: this.outcomeUnknown,
      notFound: this.notFound,
      resultClass: this.resultClass,
    };
  }
}

export function isProviderError(err: unknown): err is ProviderError {
  return err instanceof ProviderError;
}

/** True for a 1016001 "binding does not exist": on unbind the caller treats it as success. */
export function isNotFound(err: unknown): boolean {
  return err instanceof ProviderError && err.notFound;
}

export function isBindApi(api: ProviderApi): boolean {
  return api === 'bindAx' || api === 'bindYb';
}

/** The ProviderError for a non-zero result code answered by the platform. */
export function errorFromResult(
  api: ProviderApi,
  resultcode: string,
  resultdesc: string | undefined,
  httpStatus: number,
  field?: string,
  redact?: readonly string[],
): ProviderError {
  const c = classifyResult(resultcode, httpStatus);
  return new ProviderError({
    api,
    code: resultcode,
    description: resultdesc && resultdesc.trim() !== '' ? resultdesc : c.description,
    httpStatus,
    ...(field !== undefined ? { field } : {}),
    retryable: c.retryable,
    ...(c.retryAfterMs !== undefined ? { retryAfterMs: c.retryAfterMs } : {}),
    // the platform's own "response timeout" may hide a bind that went through
    outcomeUnknown: isBindApi(api) && resultcode === '1023002',
    notFound: c.notFound,
    resultClass: c.class,
    ...(redact ? { redact } : {}),
  });
}
