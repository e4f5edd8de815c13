// `bindflow simulator`: runs the local PrivateNumber platform until SIGINT/SIGTERM.

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { AreaCodeSchema, PhoneSchema } from '../provider/schemas';
import { startSimulator } from './index';
import { CORE_DEFAULTS } from './core';
import { DEFAULT_RETRY_MINUTES } from './pushes';
import { selfSignedCert, type TlsMaterial } from './tls';

export const SIMULATOR_HELP = `Usage: bindflow simulator [options]

Runs a local PrivateNumber (AXYB) platform: the provider API at the provider's paths, signed
pushes of call events and call records, and an admin API under /_sim/.

Options:
  --port <n>            port to listen on (default: $BINDFLOW_SIMULATOR_PORT or 9080; 0 = any free port)
  --host <addr>         address to bind (default: 127.0.0.1)
  --app-key <key>       the app key clients must use (default: ${CORE_DEFAULTS.appKey})
  --app-secret <secret> the app secret for X-AKSK (default: ${CORE_DEFAULTS.appSecret})
  --push-url <url>      where call events and call records are pushed
                        (default: ${CORE_DEFAULTS.pushUrl})
  --time-scale <x>      simulated seconds per real second, for binding expiry and push retries
                        (default: 1; e.g. 60 makes the 1-minute push retry come after 1 s)
  --pool <file>         JSON file of privacy numbers per area code, e.g.
                        {"0755": ["+8675528000001", "+8675528000002"], "010": ["+861062000001"]}
                        (default: 20 numbers each for 0755, 010, 021 and 020)
  --seed <n>            seed for number allocation and ids (reproducible runs)
  --auth-failure-limit <n>
                        failed authentications within 10 minutes that block an IP for 30 (default: 10)
  --tls                 serve HTTPS with a throw-away self-signed certificate for 127.0.0.1/localhost
                        (needs the openssl CLI); clients then need its certificate or no verification
  --tls-cert <file>     serve HTTPS with this PEM certificate (with --tls-key)
  --tls-key <file>      the PEM private key of --tls-cert
  -h, --help            show this help

Push retries: after ${DEFAULT_RETRY_MINUTES.join(', ')} minutes (simulated) until the receiver answers 200.

Admin API (no provider authentication):
  GET  /_sim/bindings   live bindings          POST /_sim/calls   place a call {from, to, answer?, talkSeconds?, busy?}
  GET  /_sim/pushes     pushes and attempts    PUT  /_sim/faults  fault rules {rules: [{api, fault, probability?, count?}]}
  POST /_sim/reset      forget everything      POST /_sim/clock   move the clock {advanceSeconds}
  GET  /_sim/numbers    the number pool        PUT  /_sim/config  {pushUrl}
`;

const PoolFileSchema = z.record(AreaCodeSchema, z.array(PhoneSchema).min(1)).superRefine((pool, ctx) => {
  const seen = new Set<string>();
  for (const [area, numbers] of Object.entries(pool)) {
    numbers.forEach((n, i) => {
      if (seen.has(n)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [area, i], message: 'number listed twice' });
      seen.add(n);
    });
  }
});

const port = z.coerce.number().int().min(0).max(65535);
const ArgsSchema = z.object({
  port: port.optional(),
  host: z.string().min(1).default('127.0.0.1'),
  'app-key': z.string().min(1).default(CORE_DEFAULTS.appKey),
  'app-secret': z.string().min(1).default(CORE_DEFAULTS.appSecret),
  'push-url': z.string().url().default(CORE_DEFAULTS.pushUrl),
  'time-scale': z.coerce.number().positive().default(1),
  pool: z.string().min(1).optional(),
  seed: z.coerce.number().int().optional(),
  'auth-failure-limit': z.coerce.number().int().min(1).optional(),
  tls: z.boolean().optional(),
  'tls-cert': z.string().min(1).optional(),
  'tls-key': z.string().min(1).optional(),
});

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** Resolves when the process should stop (SIGINT/SIGTERM by default). */
  stopSignal?: Promise<void>;
}

function signals(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

export async function runSimulatorCli(argv: string[], io: Partial<CliIo> = {}): Promise<number> {
  const out = io.out ?? ((t: string) => process.stdout.write(t));
  const err = io.err ?? ((t: string) => process.stderr.write(t));
  const env = io.env ?? process.env;
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'app-key': { type: 'string' },
        'app-secret': { type: 'string' },
        'push-url': { type: 'string' },
        'time-scale': { type: 'string' },
        pool: { type: 'string' },
        seed: { type: 'string' },
        'auth-failure-limit': { type: 'string' },
        tls: { type: 'boolean' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    err(`${e instanceof Error ? e.message : String(e)}\n\n${SIMULATOR_HELP}`);
    return 2;
  }
  if (values.help) {
    out(SIMULATOR_HELP);
    return 0;
  }
  const parsed = ArgsSchema.safeParse(values);
  if (!parsed.success) {
    err(`Invalid options:\n${parsed.error.issues.map((i) => `  --${i.path.join('.')}: ${i.message}`).join('\n')}\n`);
    return 2;
  }
  const args = parsed.data;
  const envPort = port.safeParse(env.BINDFLOW_SIMULATOR_PORT ?? 9080);
  if (args.port === undefined && !envPort.success) {
    err('Invalid BINDFLOW_SIMULATOR_PORT: must be a port number\n');
    return 2;
  }
  let pool;
  if (args.pool) {
    try {
      const r = PoolFileSchema.safeParse(JSON.parse(readFileSync(args.pool, 'utf8')));
      if (!r.success) {
        err(`Invalid --pool file: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}\n`);
        return 2;
      }
      pool = r.data;
    } catch (e) {
      err(`Cannot read --pool file ${args.pool}: ${e instanceof Error ? e.message : String(e)}\n`);
      return 2;
    }
  }
  let tls: TlsMaterial | undefined;
  if (Boolean(args['tls-cert']) !== Boolean(args['tls-key'])) {
    err('Invalid options: --tls-cert and --tls-key go together\n');
    return 2;
  }
  try {
    if (args['tls-cert'] && args['tls-key']) {
      tls = { cert: readFileSync(args['tls-cert'], 'utf8'), key: readFileSync(args['tls-key'], 'utf8') };
    } else if (args.tls) {
      tls = selfSignedCert();
    }
  } catch (e) {
    err(`Cannot set up TLS: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  let sim;
  try {
    sim = await startSimulator({
      port: args.port ?? (envPort.success ? envPort.data : 9080),
      host: args.host,
      appKey: args['app-key'],
      appSecret: args['app-secret'],
      pushUrl: args['push-url'],
      timeScale: args['time-scale'],
      ...(pool ? { pool } : {}),
      ...(args.seed !== undefined ? { seed: args.seed } : {}),
      ...(args['auth-failure-limit'] !== undefined ? { authFailureLimit: args['auth-failure-limit'] } : {}),
      ...(tls ? { tls } : {}),
    });
  } catch (e) {
    const code = (e as { code?: string }).code;
    err(
      code === 'EADDRINUSE'
        ? `Cannot start the simulator: port ${args.port ?? envPort.data} is already in use (choose another with --port).\n`
        : `Cannot start the simulator: ${e instanceof Error ? e.message : String(e)}\n`,
    );
    return 1;
  }
  out(`PrivateNumber simulator listening on ${sim.url} (app key ${sim.appKey}); pushes to ${args['push-url']}\n`);
  await (io.stopSignal ?? signals());
  await sim.close();
  return 0;
}
