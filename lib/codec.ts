import crypto from 'node:crypto';
import type { Payload, PayloadCodec, DataConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

// AES-256-GCM encryption of every Temporal payload (inputs, results, signals, updates, activity
// arguments): party numbers never reach Temporal's database or its Web UI in clear. Search
// attributes are not payloads of this kind, and memos are left in clear (below): both must stay
// free of party numbers.
//
// Raw bytes (`binary/plain`) are left in clear: that is how the workflow writes its bound view memo
// (workflows/types.ts `BOUND_VIEW_MEMO`, no party number in it), so that visibility listings stay
// readable without the key (the TypeScript client decodes every listed run's memo, and fails on an
// encrypted one without the key). Nothing else bindflow sends is bytes.

export const ENCODING = 'binary/encrypted';
const METADATA_ENCODING = 'encoding';
const METADATA_KEY_ID = 'encryption-key-id';
/** The encoding left in clear: raw bytes (see above). */
export const IN_CLEAR_ENCODING = 'binary/plain';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface CodecKey {
  id: string;
  key: Buffer;
}

/** A key from base64; its id is derived from it (first 8 bytes of its SHA-256), so no registry is needed. */
export function codecKey(base64: string): CodecKey {
  const key = Buffer.from(base64, 'base64');
  if (key.length !== 32) throw new Error('a payload key must be 32 bytes, base64-encoded');
  return { id: crypto.createHash('sha256').update(key).digest('hex').slice(0, 16), key };
}

export class EncryptionCodec implements PayloadCodec {
  private readonly byId: Map<string, Buffer>;

  /** Encrypts with `current`; decrypts with it or any of `previous` (key rotation). */
  constructor(
    private readonly current: CodecKey,
    previous: CodecKey[] = [],
  ) {
    this.byId = new Map([current, ...previous].map((k) => [k.id, k.key]));
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      if (Buffer.from(p.metadata?.[METADATA_ENCODING] ?? []).toString() === IN_CLEAR_ENCODING) return p;
      const plain = temporal.api.common.v1.Payload.encode(p).finish();
      const iv = crypto.randomBytes(IV_BYTES);
      const cipher = crypto.createCipheriv('aes-256-gcm', this.current.key, iv);
      const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: {
          [METADATA_ENCODING]: Buffer.from(ENCODING),
          [METADATA_KEY_ID]: Buffer.from(this.current.id),
        },
        data,
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      if (Buffer.from(p.metadata?.[METADATA_ENCODING] ?? []).toString() !== ENCODING) return p;
      const keyId = Buffer.from(p.metadata?.[METADATA_KEY_ID] ?? []).toString();
      const key = this.byId.get(keyId);
      if (!key)
        throw new Error(
          `no payload key with id ${keyId} (was BINDFLOW_PAYLOAD_KEY rotated without keeping the old one?)`,
        );
      const data = Buffer.from(p.data ?? []);
      if (data.length < IV_BYTES + TAG_BYTES) throw new Error('encrypted payload is too short');
      const decipher = crypto.createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      const plain = Buffer.concat([
        decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
        decipher.final(),
      ]);
      return temporal.api.common.v1.Payload.decode(plain) as Payload;
    });
  }
}

/** The codec from BINDFLOW_PAYLOAD_KEY (+ BINDFLOW_PAYLOAD_OLD_KEYS), or undefined when no key is set. */
export function codecFromEnv(env: {
  BINDFLOW_PAYLOAD_KEY?: string;
  BINDFLOW_PAYLOAD_OLD_KEYS?: string;
}): EncryptionCodec | undefined {
  if (!env.BINDFLOW_PAYLOAD_KEY) return undefined;
  const old = (env.BINDFLOW_PAYLOAD_OLD_KEYS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(codecKey);
  return new EncryptionCodec(codecKey(env.BINDFLOW_PAYLOAD_KEY), old);
}

/** The data converter every bindflow client and worker uses. */
export function dataConverterFromEnv(env: Parameters<typeof codecFromEnv>[0]): DataConverter | undefined {
  const codec = codecFromEnv(env);
  return codec ? { payloadCodecs: [codec] } : undefined;
}
