import { loadEnv, ConfigError, type Env } from '../lib/config';
import { PortInUseError } from '../lib/ports';
import { parseCommand, parseDuration, UsageError } from './cliArgs';
import { BindflowError } from './errors';
import { formatBinding, formatList } from './format';
import { BindflowClient } from './library';
import { connectTemporal } from './temporal';
import { dataConverterFromEnv } from '../lib/codec';
import { DEV_PORTS, devStackFile, withDevPayloadKey } from './devDefaults';
import { bindBodyToInput, parseLabel, parseOrderId, parseOrFail, PartyNumberBodySchema } from './httpSchemas';

// `npx bindflow <command>`: the processes (dev, worker, api, simulator, demo) and the operator commands.

export const HELP = `Usage: bindflow <command> [options]

Processes:
  dev                      the whole local stack: Temporal dev server + Web UI, simulator, worker, API
  cluster [--fresh]        the production shape: PostgreSQL + temporal-server + Web UI, 2 workers, 2 APIs
  worker                   the Temporal worker (metrics on $BINDFLOW_METRICS_PORT, default 9464)
  api                      the HTTP API, provider webhook and codec server (port $BINDFLOW_PORT, default 3000)
  simulator                the local PrivateNumber platform (port 9080)
  demo                     one order's whole life, narrated, against the running local stack

Orders:
  bind <orderId> --a <number> --b <number> --area <code> --duration <1h|90m|3600>
  show <orderId>
  list [--state <binding|bound|released|expired|failed>]
  extend <orderId> <duration>
  release <orderId>
  party set <orderId> <label> <number>     add a B party, or replace its number (A keeps X)
  party remove <orderId> <label>           remove a B party

Operators:
  pool                     number pool capacity per area: total, bound as X, bound as Y, free

Simulator:
  sim call --from <number> --to <number> [--talk <seconds>] [--no-answer]
  sim bindings

Every command takes --help; order commands take --json (machine-readable) and --show-numbers
(party numbers in clear; masked by default). Configuration comes from the environment (README).
`;

type Command = (argv: string[], io: Io) => Promise<number>;
export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  env: NodeJS.ProcessEnv;
}

const defaultIo: Io = {
  out: (s) => process.stdout.write(s + '\n'),
  err: (s) => process.stderr.write(s + '\n'),
  env: process.env,
};

const COMMON = { json: { type: 'boolean' as const }, 'show-numbers': { type: 'boolean' as const } };

async function withLibrary<T>(io: Io, fn: (lib: BindflowClient, env: Env) => Promise<T>): Promise<T> {
  const env = loadEnv(withDevPayloadKey(io.env));
  const { client, connection } = await connectTemporal(env, dataConverterFromEnv(env));
  try {
    return await fn(new BindflowClient({ client, taskQueue: env.TEMPORAL_TASK_QUEUE }), env);
  } finally {
    await connection.close();
  }
}

/** Beside a running `bindflow dev` on its simulator (no PRIVATENUMBER_BASE_URL), the simulator's pool, as dev uses it. */
function devSimulatorPool(env: NodeJS.ProcessEnv): string[] {
  if (env.PRIVATENUMBER_BASE_URL) return [];
  try {
    const fs = require('node:fs') as typeof import('node:fs');
    const stack = JSON.parse(fs.readFileSync(devStackFile(env), 'utf8')) as { temporalAddress?: string };
    if (stack.temporalAddress !== (env.TEMPORAL_ADDRESS ?? `127.0.0.1:${DEV_PORTS.temporal}`)) return [];
  } catch {
    return []; // no `bindflow dev` running
  }
  const { defaultPool } = require('../simulator/pool') as typeof import('../simulator/pool');
  return Object.values(defaultPool()).flat();
}

const USAGE = {
  bind: 'Usage: bindflow bind <orderId> --a <number> --b <number> --area <code> --duration <1h|90m|3600> [--record] [--direction both|a-to-b|b-to-a] [--json] [--show-numbers]',
  show: 'Usage: bindflow show <orderId> [--json] [--show-numbers]',
  list: 'Usage: bindflow list [--state binding|bound|released|expired|failed] [--json]',
  extend: 'Usage: bindflow extend <orderId> <duration: 1h|90m|3600> [--json] [--show-numbers]',
  release: 'Usage: bindflow release <orderId> [--json] [--show-numbers]',
  party:
    'Usage: bindflow party set <orderId> <label> <number> [--json] [--show-numbers]\n       bindflow party remove <orderId> <label> [--json] [--show-numbers]',
  pool: 'Usage: bindflow pool [--json]\n\nThe pool is PRIVATENUMBER_NUMBER_POOL (beside a running `bindflow dev` on the simulator: its numbers).',
  sim: 'Usage: bindflow sim call --from <number> --to <number> [--talk <seconds>] [--no-answer] [--sim-url <url>]\n       bindflow sim bindings [--sim-url <url>]',
};

function printBinding(
  io: Io,
  values: Record<string, unknown>,
  view: Parameters<typeof formatBinding>[0],
  status?: string,
) {
  if (values.json) io.out(JSON.stringify(status ? { status, binding: view } : view, null, 2));
  else io.out((status ? `${status}: ` : '') + formatBinding(view, Boolean(values['show-numbers'])));
}

const commands: Record<string, Command> = {
  async bind(argv, io) {
    const { values, positionals, help } = parseCommand(
      argv,
      {
        ...COMMON,
        a: { type: 'string' },
        b: { type: 'string' },
        area: { type: 'string' },
        duration: { type: 'string' },
        record: { type: 'boolean' },
        direction: { type: 'string' },
      },
      USAGE.bind,
    );
    if (help) return (io.out(USAGE.bind), 0);
    if (positionals.length !== 1) throw new UsageError(`give exactly one orderId\n\n${USAGE.bind}`);
    for (const req of ['a', 'b', 'area', 'duration'])
      if (!values[req]) throw new UsageError(`--${req} is required\n\n${USAGE.bind}`);
    const orderId = parseOrderId(positionals[0]);
    const input = bindBodyToInput(
      orderId,
      {
        partyA: values.a,
        partyB: values.b,
        areaCode: values.area,
        durationSeconds: parseDuration(String(values.duration), '--duration'),
        ...(values.record ? { record: true } : {}),
        ...(values.direction ? { callDirection: values.direction } : {}),
      },
      new Date().toISOString(),
    );
    return withLibrary(io, async (lib) => {
      const out = await lib.bind(input);
      printBinding(io, values, out.binding, out.status);
      return 0;
    });
  },
  async show(argv, io) {
    const { values, positionals, help } = parseCommand(argv, COMMON, USAGE.show);
    if (help) return (io.out(USAGE.show), 0);
    if (positionals.length !== 1) throw new UsageError(`give exactly one orderId\n\n${USAGE.show}`);
    return withLibrary(io, async (lib) => (printBinding(io, values, await lib.get(parseOrderId(positionals[0]))), 0));
  },
  async list(argv, io) {
    const { values, help } = parseCommand(argv, { ...COMMON, state: { type: 'string' } }, USAGE.list);
    if (help) return (io.out(USAGE.list), 0);
    const state = values.state as string | undefined;
    if (state && !['binding', 'bound', 'released', 'expired', 'failed'].includes(state))
      throw new UsageError(`--state: unknown state "${state}"\n\n${USAGE.list}`);
    return withLibrary(io, async (lib) => {
      const items = await lib.list({ state: state as never });
      io.out(values.json ? JSON.stringify({ bindings: items }, null, 2) : formatList(items));
      return 0;
    });
  },
  async extend(argv, io) {
    const { values, positionals, help } = parseCommand(argv, COMMON, USAGE.extend);
    if (help) return (io.out(USAGE.extend), 0);
    if (positionals.length !== 2) throw new UsageError(`give an orderId and a duration\n\n${USAGE.extend}`);
    const seconds = parseDuration(positionals[1], 'duration');
    return withLibrary(
      io,
      async (lib) => (
        printBinding(io, values, await lib.extend(parseOrderId(positionals[0]), { durationSeconds: seconds })),
        0
      ),
    );
  },
  async release(argv, io) {
    const { values, positionals, help } = parseCommand(argv, COMMON, USAGE.release);
    if (help) return (io.out(USAGE.release), 0);
    if (positionals.length !== 1) throw new UsageError(`give exactly one orderId\n\n${USAGE.release}`);
    return withLibrary(
      io,
      async (lib) => (printBinding(io, values, await lib.release(parseOrderId(positionals[0]))), 0),
    );
  },
  async party(argv, io) {
    const { values, positionals, help } = parseCommand(argv, COMMON, USAGE.party);
    if (help) return (io.out(USAGE.party), 0);
    const [action, orderArg, labelArg, numberArg] = positionals;
    if (action === 'set' && positionals.length === 4) {
      const orderId = parseOrderId(orderArg);
      const label = parseLabel(labelArg);
      const { number } = parseOrFail(PartyNumberBodySchema, { number: numberArg });
      return withLibrary(io, async (lib) => (printBinding(io, values, await lib.setParty(orderId, label, number)), 0));
    }
    if (action === 'remove' && positionals.length === 3) {
      const orderId = parseOrderId(orderArg);
      const label = parseLabel(labelArg);
      return withLibrary(io, async (lib) => (printBinding(io, values, await lib.removeParty(orderId, label)), 0));
    }
    throw new UsageError(`give set <orderId> <label> <number>, or remove <orderId> <label>\n\n${USAGE.party}`);
  },
  async pool(argv, io) {
    const { values, positionals, help } = parseCommand(argv, { json: { type: 'boolean' } }, USAGE.pool);
    if (help) return (io.out(USAGE.pool), 0);
    if (positionals.length) throw new UsageError(`takes no arguments\n\n${USAGE.pool}`);
    const { formatPool, parseNumberPool } = require('./pool') as typeof import('./pool');
    const numbers = parseNumberPool(io.env.PRIVATENUMBER_NUMBER_POOL);
    const pool = numbers.length ? numbers : devSimulatorPool(io.env);
    if (!pool.length)
      io.err(
        "bindflow pool: PRIVATENUMBER_NUMBER_POOL is empty: every number shows as unlisted; set it to the app's numbers",
      );
    return withLibrary(io, async (lib) => {
      const capacity = await lib.poolCapacity(pool);
      io.out(values.json ? JSON.stringify(capacity, null, 2) : formatPool(capacity));
      return 0;
    });
  },
  async sim(argv, io) {
    const { runSimCommand } = require('./simCommands') as typeof import('./simCommands');
    return runSimCommand(argv, io, USAGE.sim);
  },
  async simulator(argv) {
    const { runSimulatorCli } = require('../simulator/cli') as typeof import('../simulator/cli');
    return runSimulatorCli(argv);
  },
  async api(argv, io) {
    const { help } = parseCommand(argv, {}, 'Usage: bindflow api');
    if (help)
      return (
        io.out(
          'Usage: bindflow api\n\nRuns the HTTP API (/v1), the provider webhook and the codec server on $BINDFLOW_HOST:$BINDFLOW_PORT (default 127.0.0.1:3000);\nwith $BINDFLOW_WEBHOOK_PORT the webhook alone listens there ($BINDFLOW_WEBHOOK_HOST, default $BINDFLOW_HOST).\nConfiguration: see README (TEMPORAL_*, PRIVATENUMBER_APP_KEY/SECRET, BINDFLOW_API_TOKEN (16+ characters), BINDFLOW_PAYLOAD_KEY)\nand docs/security.md.',
        ),
        0
      );
    const { startApi } = require('./apiMain') as typeof import('./apiMain');
    const { untilSignal } = require('./processes') as typeof import('./processes');
    const env = loadEnv(io.env);
    assertStartable('api', io.env, env);
    const api = await startApi(env, { trustUiOrigin: env.BINDFLOW_CODEC_LOCAL_UI });
    io.out(`bindflow API listening on ${api.url}`);
    await untilSignal();
    await api.stop();
    return 0;
  },
  async worker(argv, io) {
    const { help } = parseCommand(argv, {}, 'Usage: bindflow worker');
    if (help)
      return (
        io.out(
          'Usage: bindflow worker\n\nRuns the Temporal worker of bindflow (workflows and provider activities) on $TEMPORAL_TASK_QUEUE.\nPrometheus metrics on $BINDFLOW_METRICS_PORT (default 9464). SIGTERM shuts down gracefully.',
        ),
        0
      );
    const { runWorker } = require('../worker') as typeof import('../worker');
    const env = loadEnv(io.env);
    assertStartable('worker', io.env, env);
    await runWorker(env);
    return 0;
  },
  async dev(argv, io) {
    const { runDev, DEV_HELP } = require('./dev') as typeof import('./dev');
    const { help } = parseCommand(argv, {}, DEV_HELP);
    if (help) return (io.out(DEV_HELP), 0);
    return runDev(io);
  },
  async cluster(argv, io) {
    const { runCluster, CLUSTER_HELP } = require('./cluster') as typeof import('./cluster');
    const { values, help } = parseCommand(argv, { fresh: { type: 'boolean' } }, CLUSTER_HELP);
    if (help) return (io.out(CLUSTER_HELP), 0);
    return runCluster(io, values.fresh ? ['--fresh'] : []);
  },
  async demo(argv, io) {
    const { runDemo, DEMO_HELP } = require('./demo') as typeof import('./demo');
    const { values, help } = parseCommand(
      argv,
      { ...COMMON, 'api-url': { type: 'string' }, 'sim-url': { type: 'string' } },
      DEMO_HELP,
    );
    if (help) return (io.out(DEMO_HELP), 0);
    return runDemo(io, values);
  },
};

/** Outside `bindflow dev`: refuse the simulator's credentials against a real provider, short tokens (lib/startupChecks.ts). */
function assertStartable(role: 'api' | 'worker', given: NodeJS.ProcessEnv, env: Env): void {
  const { startupProblems } = require('../lib/startupChecks') as typeof import('../lib/startupChecks');
  const problems = startupProblems(role, given, env);
  if (problems.length) throw new ConfigError(problems);
}

export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.out(HELP);
    return name ? 0 : 1;
  }
  const cmd = commands[name];
  if (!cmd) {
    io.err(`bindflow: unknown command "${name}"\n\n${HELP}`);
    return 2;
  }
  try {
    return await cmd(rest, io);
  } catch (err) {
    if (err instanceof UsageError) return (io.err(`bindflow ${name}: ${err.message}`), 2);
    if (err instanceof ConfigError || err instanceof PortInUseError)
      return (io.err(`bindflow ${name}: ${err.message}`), 1);
    if (err instanceof BindflowError) {
      io.err(`bindflow ${name}: ${err.code}: ${err.message}`);
      return 1;
    }
    io.err(`bindflow ${name}: ${(err as Error).message}`);
    return 1;
  }
}
