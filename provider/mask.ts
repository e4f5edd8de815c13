// Masking for logs and errors: a party number never appears in clear outside an authorised answer.

const NUMBER_RE = /\+?\d{7,}/g;

/** `+8613800000002` → `+86138****0002`; short or odd values keep at most their last 4 digits. */
export function maskNumber(value: string | undefined | null): string {
  if (value === undefined || value === null) return '';
  const s = String(value);
  const digits = s.replace(/^\+/, '');
  if (!/^\d+$/.test(digits)) return s.length <= 4 ? '****' : `****${s.slice(-4)}`;
  const plus = s.startsWith('+') ? '+' : '';
  if (digits.length >= 11) return `${plus}${digits.slice(0, digits.length - 8)}****${digits.slice(-4)}`;
  if (digits.length > 4) return `${plus}${'*'.repeat(digits.length - 4)}${digits.slice(-4)}`;
  return `${plus}****`;
}

/** Masks every run of 7+ digits in free text (log messages, provider descriptions). */
export function maskText(text: string): string {
  return text.replace(NUMBER_RE, (m) => maskNumber(m));
}

const SECRET_KEYS = /secret|password|digest|token|authorization|x-aksk|apikey|api_key|payloadkey/i;

/** Identifiers and codes that look like digit runs but are not phone numbers: logged as they are. */
const NOT_A_NUMBER_KEYS =
  /^(resultcode|code|statecode|statusCode|icid|sessionId|subscriptionId|bindId|workflowId|runId|orderId|requestId|pid|port)$/i;

/** Deep copy of `value` for logging: numbers masked in every string, secrets removed. */
export function maskDeep(value: unknown, depth = 0): unknown {
  if (depth > 8) return '[…]';
  if (typeof value === 'string') return maskText(value);
  if (Array.isArray(value)) return value.map((v) => maskDeep(v, depth + 1));
  if (value instanceof Error) return { name: value.name, message: maskText(value.message) };
  // Bytes (payloads in SDK debug logs) could spell a number as byte codes: log only their size.
  if (value instanceof Uint8Array) return `[${value.length} bytes]`;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = SECRET_KEYS.test(k)
        ? '[redacted]'
        : NOT_A_NUMBER_KEYS.test(k) && typeof v !== 'object'
          ? v
          : maskDeep(v, depth + 1);
    }
    return out;
  }
  return value;
}
