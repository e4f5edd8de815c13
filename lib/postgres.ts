import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { PROJECT_ROOT } from './binaries';
import { waitForTcp } from './ports';

// A PostgreSQL server of the production shape's own, under the project's data directory, run by
// Debian's server binaries (as the `postgres` user when we are root: PostgreSQL refuses root).

const GUARD = path.join(PROJECT_ROOT, 'scripts', 'guard.js');

export interface PgBinaries {
  bindir: string;
  initdb: string;
  postgres: string;
  version: string;
}

export class PostgresUnavailable extends Error {}

function tryBindir(bindir: string): PgBinaries | null {
  const initdb = path.join(bindir, 'initdb');
  const postgres = path.join(bindir, 'postgres');
  if (!fs.existsSync(initdb) || !fs.existsSync(postgres)) return null;
  const r = spawnSync(postgres, ['--version'], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  return { bindir, initdb, postgres, version: r.stdout.trim() };
}

/** Debian's server binaries (`/usr/lib/postgresql/<newest>/bin`), else `initdb`/`postgres` on PATH. */
export function findPostgres(env: NodeJS.ProcessEnv = process.env): PgBinaries | null {
  if (env.BINDFLOW_PG_BINDIR) return tryBindir(env.BINDFLOW_PG_BINDIR);
  const debian = '/usr/lib/postgresql';
  if (fs.existsSync(debian)) {
    const versions = fs
      .readdirSync(debian)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) {
      const found = tryBindir(path.join(debian, v, 'bin'));
      if (found) return found;
    }
  }
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const found = tryBindir(dir);
    if (found) return found;
  }
  return null;
}

const INSTALL_HINT =
  'install PostgreSQL 12 or newer (Debian/Ubuntu: `sudo apt-get install postgresql`), or point BINDFLOW_PG_BINDIR at its bin directory';

/** Finds PostgreSQL; installs Debian's package when missing and we are root with apt-get. */
export function ensurePostgres(say: (line: string) => void, env: NodeJS.ProcessEnv = process.env): PgBinaries {
  const found = findPostgres(env);
  if (found) return found;
  const isRoot = process.getuid?.() === 0;
  const hasApt = spawnSync('apt-get', ['--version']).status === 0;
  if (!isRoot || !hasApt)
    throw new PostgresUnavailable(`PostgreSQL's server binaries are not installed: ${INSTALL_HINT}`);
  say("PostgreSQL is not installed: installing Debian's package `postgresql` (apt-get)…");
  const aptEnv = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = spawnSync('apt-get', ['install', '-y', '-q', 'postgresql'], { env: aptEnv, encoding: 'utf8' });
  if (r.status !== 0) {
    spawnSync('apt-get', ['update', '-q'], { env: aptEnv, encoding: 'utf8' });
    r = spawnSync('apt-get', ['install', '-y', '-q', 'postgresql'], { env: aptEnv, encoding: 'utf8' });
  }
  const after = findPostgres(env);
  if (r.status !== 0 || !after)
    throw new PostgresUnavailable(
      `installing PostgreSQL with apt-get failed: ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' ')}; ${INSTALL_HINT}`,
    );
  return after;
}

interface RunAs {
  uid?: number;
  gid?: number;
  user: string;
}

/** Root runs PostgreSQL as `postgres` (the Debian package's user); anyone else as themselves. */
function runAs(): RunAs {
  if (process.getuid?.() !== 0) return { user: process.env.USER ?? 'current user' };
  const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0)
    throw new PostgresUnavailable(
      'running as root, PostgreSQL needs an unprivileged user to run as, and there is no `postgres` user: create one (`useradd --system postgres`) or run as another user',
    );
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()), user: 'postgres' };
}

function chownTree(p: string, who: RunAs): void {
  if (who.uid === undefined || who.gid === undefined) return;
  fs.chownSync(p, who.uid, who.gid);
  if (fs.statSync(p).isDirectory()) for (const e of fs.readdirSync(p)) chownTree(path.join(p, e), who);
}

export interface PgCluster {
  /** The data directory's parent: `pgdata/`, `password`, `postgres.log`. */
  dir: string;
  port: number;
  user: string;
  password: string;
}

/** Creates the database cluster once (initdb, scram-sha-256 with a generated password); later calls reuse it. */
export function initPostgres(bins: PgBinaries, dir: string, port: number): PgCluster {
  const who = runAs();
  const data = path.join(dir, 'pgdata');
  const pwFile = path.join(dir, 'password');
  fs.mkdirSync(dir, { recursive: true });
  if (who.uid !== undefined) {
    // The `postgres` user must be able to walk down to its data directory.
    for (let p = path.dirname(path.resolve(dir)); ; p = path.dirname(p)) {
      const st = fs.statSync(p);
      if (!(st.mode & 0o001) && st.uid !== who.uid)
        throw new PostgresUnavailable(
          `PostgreSQL runs as the user postgres, which cannot enter ${p} (mode ${(st.mode & 0o777).toString(8)}): ` +
            `allow it (\`chmod o+x ${p}\`) or set BINDFLOW_DATA_DIR to a directory it can reach`,
        );
      if (p === path.dirname(p)) break;
    }
  }
  if (!fs.existsSync(path.join(data, 'PG_VERSION'))) {
    fs.rmSync(data, { recursive: true, force: true });
    const password = crypto.randomBytes(18).toString('base64url');
    fs.writeFileSync(pwFile, password + '\n', { mode: 0o600 });
    fs.mkdirSync(data, { mode: 0o700 });
    chownTree(dir, who);
    const r = spawnSync(
      bins.initdb,
      ['-D', data, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${pwFile}`, '-E', 'UTF8', '--locale=C'],
      { encoding: 'utf8', uid: who.uid, gid: who.gid, cwd: dir },
    );
    if (r.status !== 0) {
      fs.rmSync(data, { recursive: true, force: true });
      throw new PostgresUnavailable(`initdb failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-5).join(' ')}`);
    }
  }
  return { dir, port, user: 'postgres', password: fs.readFileSync(pwFile, 'utf8').trim() };
}

export interface RunningPostgres {
  pid: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts the postmaster on 127.0.0.1:<port> under the guard (fast shutdown on stop; no orphan). */
export async function startPostgres(bins: PgBinaries, cluster: PgCluster): Promise<RunningPostgres> {
  const who = runAs();
  const log = fs.openSync(path.join(cluster.dir, 'postgres.log'), 'a');
  if (who.uid !== undefined) fs.fchownSync(log, who.uid, who.gid as number);
  const child = spawn(
    process.execPath,
    [
      GUARD,
      bins.postgres,
      '-D',
      path.join(cluster.dir, 'pgdata'),
      '-p',
      String(cluster.port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'max_connections=300',
    ],
    {
      stdio: ['pipe', log, log],
      cwd: cluster.dir,
      env: {
        ...process.env,
        GUARD_STOP_SIGNAL: 'SIGINT',
        GUARD_KILL_AFTER_MS: '30000',
        ...(who.uid !== undefined ? { GUARD_UID: String(who.uid), GUARD_GID: String(who.gid) } : {}),
      },
    },
  );
  fs.closeSync(log);
  try {
    await waitForTcp(cluster.port, '127.0.0.1', 60_000, () => child.exitCode === null);
  } catch (err) {
    const tail = fs
      .readFileSync(path.join(cluster.dir, 'postgres.log'), 'utf8')
      .trim()
      .split('\n')
      .slice(-5)
      .join('\n');
    throw new PostgresUnavailable(`PostgreSQL did not start: ${(err as Error).message}\n${tail}`);
  }
  return {
    pid: child.pid ?? -1,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGINT');
      }),
  };
}
