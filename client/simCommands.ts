import { request } from 'undici';
import { loadEnv } from '../lib/config';
import { maskNumber } from '../provider/mask';
import { parseCommand, UsageError } from './cliArgs';
import type { Io } from './cli';
import { simulatorUrl } from './devDefaults';

// `bindflow sim …`: the simulator's admin API from a terminal.

async function simFetch(base: string, path: string, body?: unknown): Promise<unknown> {
  const res = await request(new URL(path, base), {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  const text = await res.body.text();
  if (res.statusCode >= 400) throw new Error(`simulator answered ${res.statusCode}: ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

export async function runSimCommand(argv: string[], io: Io, usage: string): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, help } = parseCommand(
    rest,
    {
      from: { type: 'string' },
      to: { type: 'string' },
      talk: { type: 'string' },
      'no-answer': { type: 'boolean' },
      'sim-url': { type: 'string' },
      json: { type: 'boolean' },
      'show-numbers': { type: 'boolean' },
    },
    usage,
  );
  if (help || !sub || sub === '--help' || sub === '-h') return (io.out(usage), 0);
  const base = String(values['sim-url'] ?? simulatorUrl(io.env, loadEnv(io.env)));
  const show = (n: string | undefined) => (values['show-numbers'] ? (n ?? '-') : maskNumber(n));
  if (sub === 'call') {
    if (!values.from || !values.to) throw new UsageError(`--from and --to are required\n\n${usage}`);
    const talk = values.talk === undefined ? 30 : Number(values.talk);
    if (!Number.isInteger(talk) || talk < 0)
      throw new UsageError(`--talk: "${values.talk}" is not a whole number of seconds`);
    const out = (await simFetch(base, '/_sim/calls', {
      from: values.from,
      to: values.to,
      answer: !values['no-answer'],
      talkSeconds: talk,
    })) as Record<string, string | number | undefined>;
    if (values.json) io.out(JSON.stringify(out, null, 2));
    else
      io.out(
        `call ${out.sessionId}: stateCode ${out.stateCode}; connected to ${show(out.connectedTo as string)}, showing ${out.displayNumber ?? '-'}`,
      );
    return 0;
  }
  if (sub === 'bindings') {
    const out = (await simFetch(base, '/_sim/bindings')) as
      { bindings?: Array<Record<string, unknown>> } | Array<Record<string, unknown>>;
    const list = Array.isArray(out) ? out : (out.bindings ?? []);
    if (values.json) io.out(JSON.stringify(list, null, 2));
    else if (!list.length) io.out('no live bindings at the provider');
    else
      for (const b of list) {
        const yb = (b.yb as Array<{ numY: string; numB: string }>) ?? [];
        io.out(
          `${b.subscriptionId}  A ${show(b.numA as string)} ⇄ X ${b.numX}  ${yb.map((y) => `Y ${y.numY} ⇄ B ${show(y.numB)}`).join('  ')}  expires ${b.expiresAt}`,
        );
      }
    return 0;
  }
  throw new UsageError(`unknown sim command "${sub}"\n\n${usage}`);
}
