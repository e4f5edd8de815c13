import dns from 'node:dns';
import net from 'node:net';

// Where the worker may send an order's notifications. A userCallbackUrl is the caller's text: unchecked, it
// points the worker at internal services and at cloud metadata endpoints (169.254.169.254). Checked when the
// order is made (the API answers 400) and again at every delivery, on the very address the socket connects to
// (DNS can change between the two, or answer differently each time).

/** Why an address is not a public one; null for a public address. */
export type AddressClass =
  'loopback' | 'link-local' | 'private' | 'unique-local' | 'shared' | 'unspecified' | 'multicast' | 'reserved' | null;

const V4: Array<[string, number, Exclude<AddressClass, null>]> = [
  ['0.0.0.0', 8, 'unspecified'], // "this network": 0.0.0.0 reaches the local host on Linux
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'], // cloud metadata (169.254.169.254) lives here
  ['10.0.0.0', 8, 'private'],
  ['172.16.0.0', 12, 'private'],
  ['192.168.0.0', 16, 'private'],
  ['100.64.0.0', 10, 'shared'], // carrier-grade NAT; some clouds put metadata here (100.100.100.200)
  ['192.0.0.0', 24, 'reserved'],
  ['198.18.0.0', 15, 'reserved'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'], // and 255.255.255.255
];
const V6: Array<[string, number, Exclude<AddressClass, null>]> = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['fe80::', 10, 'link-local'],
  ['fc00::', 7, 'unique-local'],
  ['fec0::', 10, 'reserved'], // deprecated site-local
  ['ff00::', 8, 'multicast'],
];

const lists = new Map<Exclude<AddressClass, null>, net.BlockList>();
for (const [addr, prefix, cls] of V4) {
  const l = lists.get(cls) ?? new net.BlockList();
  l.addSubnet(addr, prefix, 'ipv4');
  lists.set(cls, l);
}
for (const [addr, prefix, cls] of V6) {
  const l = lists.get(cls) ?? new net.BlockList();
  l.addSubnet(addr, prefix, 'ipv6');
  lists.set(cls, l);
}

/** The IPv4 address an IPv6 address carries (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96, 6to4), if any. */
function embeddedV4(ip: string): string | undefined {
  const lower = ip.toLowerCase();
  const dotted = /^(?:::ffff:(?:0:)?|64:ff9b::)(\d{1,3}(?:\.\d{1,3}){3})$/.exec(lower);
  if (dotted) return dotted[1];
  const groups = expandV6(lower);
  if (!groups) return undefined;
  const hex = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  // ::ffff:x:y (mapped), ::ffff:0:x:y (translated), 64:ff9b::x:y (NAT64)
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) return hex(groups[6], groups[7]);
  if (groups.slice(0, 4).every((g) => g === 0) && groups[4] === 0xffff && groups[5] === 0)
    return hex(groups[6], groups[7]);
  if (groups[0] === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((g) => g === 0))
    return hex(groups[6], groups[7]);
  if (groups[0] === 0x2002) return hex(groups[1], groups[2]); // 6to4
  return undefined;
}

function expandV6(ip: string): number[] | undefined {
  if (net.isIPv6(ip) === false) return undefined;
  let text = ip;
  const v4 = /(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4[1].split('.').map(Number);
    text = text.slice(0, -v4[1].length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const fill = tail === undefined ? 0 : 8 - h.length - t.length;
  const all = [...h, ...Array<string>(fill).fill('0'), ...t].map((g) => parseInt(g, 16));
  return all.length === 8 && all.every((g) => Number.isInteger(g)) ? all : undefined;
}

/** The class of an IP address that is not a public one, or null for a public address (or not an IP at all). */
export function classifyAddress(ip: string): AddressClass {
  const bare = ip.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = net.isIP(bare);
  if (family === 0) return null;
  if (family === 6) {
    const v4 = embeddedV4(bare);
    if (v4 && net.isIPv4(v4)) return classifyAddress(v4);
  }
  for (const [cls, list] of lists) if (list.check(bare, family === 4 ? 'ipv4' : 'ipv6')) return cls;
  return null;
}

export interface CallbackTargetPolicy {
  /** Host names or IP addresses (lower case, IPv6 without brackets) allowed although not public. */
  allowHosts: ReadonlySet<string>;
}

/** BINDFLOW_CALLBACK_ALLOW_HOSTS: comma-separated host names or IP addresses (`[::1]` or `::1`). */
export function parseAllowHosts(text: string | undefined): Set<string> {
  return new Set(
    (text ?? '')
      .split(',')
      .map((h) => normaliseHost(h.trim()))
      .filter(Boolean),
  );
}

function normaliseHost(host: string): string {
  return host
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
}

/** A refused target: never retried, never sent. */
export class CallbackTargetError extends Error {
  override name = 'CallbackTargetError';
  constructor(
    message: string,
    readonly code = 'ECALLBACKTARGET',
  ) {
    super(message);
  }
}

/**
 * Whether one address may be connected to for `host`: link-local never (cloud metadata, whatever the allow
 * list says); loopback, private, unique-local and the other non-public ranges only for a listed host.
 */
export function addressRefusal(host: string, address: string, policy: CallbackTargetPolicy): string | undefined {
  const cls = classifyAddress(address);
  if (cls === null) return undefined;
  const where = host === address ? `${cls} address` : `${cls} address ${address}`;
  if (cls === 'link-local') return `${host} is a ${where}: never a callback target (cloud metadata lives there)`;
  if (policy.allowHosts.has(normaliseHost(host))) return undefined;
  return `${host} is a ${where}: not allowed as a callback target (BINDFLOW_CALLBACK_ALLOW_HOSTS lists exceptions)`;
}

export type Resolver = (host: string) => Promise<string[]>;

const systemResolver: Resolver = async (host) =>
  (await dns.promises.lookup(host, { all: true, verbatim: true })).map((a) => a.address);

export type CheckResult =
  | { ok: true; addresses: string[] }
  | { ok: false; reason: string }
  /** The host did not resolve (now): the connection-time check still guards the delivery. */
  | { ok: 'unresolved'; reason: string };

/**
 * Checks a callback URL: scheme, the host as written (an IP literal, `localhost`), then every address it
 * resolves to now. Resolution is bounded by `timeoutMs`.
 */
export async function checkCallbackUrl(
  url: string,
  policy: CallbackTargetPolicy,
  opts: { resolve?: Resolver; timeoutMs?: number } = {},
): Promise<CheckResult> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { ok: false, reason: 'must be an http(s) URL' };
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return { ok: false, reason: 'must be an http(s) URL' };
  if (u.username || u.password) return { ok: false, reason: 'must not carry credentials' };
  const host = normaliseHost(u.hostname);
  if (!host) return { ok: false, reason: 'has no host' };
  if (net.isIP(host)) {
    const refusal = addressRefusal(host, host, policy);
    return refusal ? { ok: false, reason: refusal } : { ok: true, addresses: [host] };
  }
  // Names that always mean this machine, whatever DNS says.
  if (host === 'localhost' || host.endsWith('.localhost')) {
    const refusal = addressRefusal(host, '127.0.0.1', policy);
    return refusal ? { ok: false, reason: refusal } : { ok: true, addresses: ['127.0.0.1'] };
  }
  const resolve = opts.resolve ?? systemResolver;
  let addresses: string[];
  try {
    addresses = await withTimeout(resolve(host), opts.timeoutMs ?? 3000);
  } catch (err) {
    return { ok: 'unresolved', reason: `${host} does not resolve now (${(err as Error).message})` };
  }
  for (const a of addresses) {
    const refusal = addressRefusal(host, a, policy);
    if (refusal) return { ok: false, reason: refusal };
  }
  return { ok: true, addresses };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | dns.LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for net/tls.connect (undici's `connect` options) that refuses, at connection time, every address
 * the policy refuses: what the socket connects to is what was checked, whatever DNS answered before.
 */
export type AllLookup = (
  hostname: string,
  options: dns.LookupAllOptions,
  callback: (err: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void,
) => void;

export function guardedLookup(policy: CallbackTargetPolicy, base: AllLookup = dns.lookup) {
  return (hostname: string, options: dns.LookupOptions, callback: LookupCallback): void => {
    base(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, options.all ? [] : '', undefined);
      const list = addresses as dns.LookupAddress[];
      for (const a of list) {
        const refusal = addressRefusal(hostname, a.address, policy);
        if (refusal) return callback(new CallbackTargetError(refusal), options.all ? [] : '', undefined);
      }
      if (options.all) return callback(null, list);
      if (!list.length) return callback(Object.assign(new Error(`${hostname}: no address`), { code: 'ENOTFOUND' }), '');
      callback(null, list[0].address, list[0].family);
    });
  };
}
