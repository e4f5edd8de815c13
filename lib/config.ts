import { z } from 'zod';

// The environment, parsed once at start; every problem is reported at once, naming the variable.

/** Provider queries per second of a reconciliation sweep, unless BINDFLOW_RECONCILE_RATE says otherwise. */
export const DEFAULT_RECONCILE_RATE = 10;

const port = z.coerce.number().int().min(0).max(65535);
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === '' ? undefined : v));
/** `1`/`true` on, `0`/`false`/unset off. */
const flag = z
  .enum(['', '0', '1', 'true', 'false'], { message: 'must be 1 or 0' })
  .optional()
  .transform((v) => v === '1' || v === 'true');

export const EnvSchema = z.object({
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('bindflow'),
  TEMPORAL_API_KEY: optionalString,
  TEMPORAL_TLS_CERT: optionalString,
  TEMPORAL_TLS_KEY: optionalString,
  PRIVATENUMBER_BASE_URL: z.string().url().default('http://127.0.0.1:9080'),
  PRIVATENUMBER_APP_KEY: z.string().min(1).default('sim-app-key'),
  PRIVATENUMBER_APP_SECRET: z.string().min(1).default('sim-app-secret'),
  /** Comma-separated privacy numbers of the app (for reconciliation sweeps). */
  PRIVATENUMBER_NUMBER_POOL: optionalString,
  /** PEM file of an extra CA to trust for the provider (tests, private gateways). */
  PRIVATENUMBER_CA_FILE: optionalString,
  BINDFLOW_API_TOKEN: optionalString,
  BINDFLOW_PAYLOAD_KEY: optionalString.refine((v) => v === undefined || Buffer.from(v, 'base64').length === 32, {
    message: 'must be a base64-encoded 32-byte key (e.g. `openssl rand -base64 32`)',
  }),
  /** Earlier payload keys (comma-separated base64), still accepted for decoding after a rotation. */
  BINDFLOW_PAYLOAD_OLD_KEYS: optionalString,
  /** Web UI origins allowed to call the codec server (CORS), comma-separated. */
  BINDFLOW_CODEC_CORS_ORIGINS: z.string().default('http://127.0.0.1:8233,http://localhost:8233'),
  /** HMAC-SHA256 key for notifications to an order's userCallbackUrl. */
  BINDFLOW_CALLBACK_SECRET: optionalString,
  BINDFLOW_PORT: port.default(3000),
  BINDFLOW_HOST: z.string().default('127.0.0.1'),
  /** The provider webhook alone on its own listener (unset: on the API's listener, as one server). */
  BINDFLOW_WEBHOOK_PORT: z.preprocess((v) => (v === '' ? undefined : v), port.optional()),
  /** The webhook listener's address; default BINDFLOW_HOST. */
  BINDFLOW_WEBHOOK_HOST: optionalString,
  /** Callback hosts allowed although they are or resolve to loopback, private or unique-local addresses. */
  BINDFLOW_CALLBACK_ALLOW_HOSTS: optionalString,
  /** `1`: orders may have a userCallbackUrl although no BINDFLOW_CALLBACK_SECRET signs the notifications. */
  BINDFLOW_CALLBACK_UNSIGNED: flag,
  /** Party numbers in callback bodies: `masked` (+86138****0002) or `full`. */
  BINDFLOW_CALLBACK_NUMBERS: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.enum(['masked', 'full']).default('masked'),
  ),
  /** Bearer token of the codec server (else the API token), so operators' browsers never hold the API token. */
  BINDFLOW_CODEC_TOKEN: optionalString,
  /** `1`: /metrics and /readyz on the API port answer without the bearer token. */
  BINDFLOW_METRICS_PUBLIC: flag,
  /**
   * `1`: the local Web UI (BINDFLOW_CODEC_CORS_ORIGINS) may call the codec server without a token, only while
   * every listener is on loopback and the request's Host is a loopback name: what `bindflow dev` does in
   * process, and what `bindflow cluster` sets for its API replicas.
   */
  BINDFLOW_CODEC_LOCAL_UI: flag,
  BINDFLOW_METRICS_PORT: port.default(9464),
  /**
   * Which call events the webhook hands to the order's workflow: `all` (callin, answer, disconnect), or `final`
   * (disconnect only); the others are verified, counted and acknowledged (callout and alerting always: they
   * change nothing an order shows). Call records (fee) always go through: they carry every time of the call.
   */
  BINDFLOW_CALL_EVENTS: z.preprocess((v) => (v === '' ? undefined : v), z.enum(['all', 'final']).default('all')),
  /**
   * How a PUT waits for both numbers: `update` (Update-with-Start: two billable actions, the least CPU) or
   * `history` (a plain start, then the run's history read until its bound view is in its memo: one billable
   * action fewer per order, for about eight history reads per order on the API and the Temporal server).
   */
  BINDFLOW_BIND_WAIT: z.preprocess((v) => (v === '' ? undefined : v), z.enum(['update', 'history']).default('update')),
  /** The worker's /metrics address: 0.0.0.0 in a container, so that Prometheus can scrape it. */
  BINDFLOW_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  BINDFLOW_SIMULATOR_PORT: port.default(9080),
  /** How often the reconciliation Schedule sweeps the pool; `0` or `off`: the worker leaves the Schedule alone. */
  BINDFLOW_RECONCILE_INTERVAL: z
    .string()
    .regex(/^(?:off|\d+[smhd]?)$/, 'must be a duration such as 60, 90s, 1m or 1h, or 0 / off (no schedule)')
    .default('1m'),
  /** Id of the reconciliation Schedule (one per namespace and deployment; tests use their own). */
  /** How long an ended order still merges late call events and records (`0`: close at once). */
  BINDFLOW_LATE_EVENTS_GRACE: z
    .string()
    .regex(/^\d+(s|m|h|d)?$/, 'must be a duration such as 0, 90s, 15m or 1h')
    .default('15m')
    .transform((v) => {
      const m = /^(\d+)(s|m|h|d)?$/.exec(v)!;
      return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
    })
    .refine((s) => s <= 7 * 86400, 'must be at most 7 days'),
  BINDFLOW_RECONCILE_SCHEDULE_ID: z.string().min(1).max(200).default('bindflow-reconcile'),
  /** Most provider queries per second a reconciliation sweep makes (per worker); flow control slows it further. */
  BINDFLOW_RECONCILE_RATE: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.coerce.number().positive().max(1000).default(DEFAULT_RECONCILE_RATE),
  ),
});

export type Env = z.infer<typeof EnvSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/**
 * The standard OTEL_* variables bindflow's tracing reads (lib/tracing.ts): on when OTEL_EXPORTER_OTLP_ENDPOINT is
 * set, exported with OTLP over HTTP/protobuf.
 */
export function otelProblems(source: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  const endpoint = source.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (endpoint && !/^https?:\/\/[^/\s]+/.test(endpoint))
    problems.push('OTEL_EXPORTER_OTLP_ENDPOINT: must be an http(s) URL such as http://127.0.0.1:4318');
  for (const name of ['OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL']) {
    const v = source[name]?.trim();
    if (v && v !== 'http/protobuf') problems.push(`${name}: only http/protobuf is supported (got "${v}")`);
  }
  return problems;
}

export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const r = EnvSchema.safeParse(source);
  const problems = r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  if (Boolean(source.TEMPORAL_TLS_CERT) !== Boolean(source.TEMPORAL_TLS_KEY)) {
    problems.push('TEMPORAL_TLS_CERT / TEMPORAL_TLS_KEY: set both (mTLS) or neither');
  }
  problems.push(...otelProblems(source));
  if (!r.success || problems.length) throw new ConfigError(problems);
  return r.data;
}
