import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';

// The production shape's binaries, built from the Go module proxy once per version and kept in the
// user's cache directory (as Go keeps its own), so that later runs and fresh clones skip the build.

/** Pinned here and in docker-compose.yml (a unit test checks that both say the same). */
export const TEMPORAL_SERVER_VERSION = '1.30.9';
/** The Web UI server (github.com/temporalio/ui-server, UI assets embedded): the UI of the dev server's CLI. */
export const TEMPORAL_UI_SERVER_VERSION = '2.54.1';
/** temporal-server 1.30.9 needs a newer Go than the machine's 1.26; the `go` command fetches it. */
export const GO_TOOLCHAIN = 'go1.27.3';

export interface ClusterBinaries {
  server: string;
  sqlTool: string;
  uiServer: string;
  /** `…/schema/postgresql/v12` with `temporal/versioned` and `visibility/versioned`. */
  schemaDir: string;
  serverVersion: string;
  uiVersion: string;
}

export class ClusterUnavailable extends Error {}

/** `$BINDFLOW_CACHE_DIR`, else `$XDG_CACHE_HOME/bindflow`, else `~/.cache/bindflow`. */
export function userCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.BINDFLOW_CACHE_DIR) return path.resolve(env.BINDFLOW_CACHE_DIR);
  const base = env.XDG_CACHE_HOME ? path.resolve(env.XDG_CACHE_HOME) : path.join(os.homedir(), '.cache');
  return path.join(base, 'bindflow');
}

function serverDir(env: NodeJS.ProcessEnv): string {
  return path.join(userCacheDir(env), 'temporal-server', TEMPORAL_SERVER_VERSION);
}
function uiDir(env: NodeJS.ProcessEnv): string {
  return path.join(userCacheDir(env), 'temporal-ui-server', TEMPORAL_UI_SERVER_VERSION);
}

function expected(env: NodeJS.ProcessEnv): ClusterBinaries {
  const dir = serverDir(env);
  return {
    server: path.join(dir, 'temporal-server'),
    sqlTool: path.join(dir, 'temporal-sql-tool'),
    schemaDir: path.join(dir, 'schema', 'postgresql', 'v12'),
    uiServer: path.join(uiDir(env), 'temporal-ui-server'),
    serverVersion: TEMPORAL_SERVER_VERSION,
    uiVersion: TEMPORAL_UI_SERVER_VERSION,
  };
}

/** The cached binaries, or null when (part of) the build has not happened yet. */
export function cachedClusterBinaries(env: NodeJS.ProcessEnv = process.env): ClusterBinaries | null {
  const bins = expected(env);
  const ok =
    fs.existsSync(path.join(serverDir(env), 'complete')) &&
    fs.existsSync(path.join(uiDir(env), 'complete')) &&
    [bins.server, bins.sqlTool, bins.uiServer, path.join(bins.schemaDir, 'temporal', 'versioned')].every((f) =>
      fs.existsSync(f),
    );
  return ok ? bins : null;
}

/** The `go` command, or null. Looks on PATH, then where the official tarball installs. */
export function findGo(env: NodeJS.ProcessEnv = process.env): string | null {
  for (const candidate of ['go', '/usr/local/go/bin/go', path.join(os.homedir(), 'go', 'bin', 'go')]) {
    const r = spawnSync(candidate, ['version'], { env, encoding: 'utf8' });
    if (r.status === 0) return candidate;
  }
  return null;
}

/** Why the binaries cannot be built here, or null when they can (or are cached). */
export function clusterBuildBlocker(env: NodeJS.ProcessEnv = process.env): string | null {
  if (cachedClusterBinaries(env)) return null;
  if (!findGo(env))
    return (
      `building temporal-server ${TEMPORAL_SERVER_VERSION} needs Go (1.21 or newer; it fetches ${GO_TOOLCHAIN} itself) ` +
      `and the Go module proxy: install Go from https://go.dev/dl/ and run again`
    );
  return null;
}

async function withLock<T>(dir: string, say: (line: string) => void, fn: () => Promise<T>): Promise<T> {
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  const lock = `${dir}.lock`;
  for (let waited = 0; ; waited++) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, 'pid'), String(process.pid));
      break;
    } catch {
      let holder = NaN;
      try {
        holder = Number(fs.readFileSync(path.join(lock, 'pid'), 'utf8'));
      } catch {
        /* being written */
      }
      let alive = false;
      if (Number.isInteger(holder)) {
        try {
          process.kill(holder, 0);
          alive = true;
        } catch {
          alive = false;
        }
      }
      if (!alive && waited > 2) {
        fs.rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (waited % 30 === 3) say(`waiting for another build in progress (pid ${holder}, lock ${lock})…`);
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

function goEnv(go: string, env: NodeJS.ProcessEnv, name: string): string {
  const r = spawnSync(go, ['env', name], { env: { ...env, GOTOOLCHAIN: GO_TOOLCHAIN }, encoding: 'utf8' });
  if (r.status !== 0) throw new ClusterUnavailable(`\`go env ${name}\` failed: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

async function goInstall(
  go: string,
  pkgs: string[],
  gobin: string,
  logFile: string,
  env: NodeJS.ProcessEnv,
  say: (line: string) => void,
  what: string,
): Promise<void> {
  fs.mkdirSync(gobin, { recursive: true });
  const log = fs.openSync(logFile, 'w');
  const t0 = Date.now();
  const child = spawn(go, ['install', ...pkgs], {
    env: { ...env, GOTOOLCHAIN: GO_TOOLCHAIN, GOBIN: gobin, GOFLAGS: '-buildvcs=false' },
    stdio: ['ignore', log, log],
  });
  const timer = setInterval(
    () => say(`still building ${what} (${Math.round((Date.now() - t0) / 60000)} min so far; log ${logFile})`),
    60_000,
  );
  try {
    const code = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (c) => resolve(c ?? 1));
    });
    if (code !== 0) {
      const tail = fs.readFileSync(logFile, 'utf8').trim().split('\n').slice(-15).join('\n');
      throw new ClusterUnavailable(
        `building ${what} failed (go install exited ${code}; is the Go module proxy reachable?):\n${tail}\nfull log: ${logFile}`,
      );
    }
  } finally {
    clearInterval(timer);
    fs.closeSync(log);
  }
  say(`built ${what} in ${Math.round((Date.now() - t0) / 1000)} s`);
}

/**
 * Builds what is missing (temporal-server + temporal-sql-tool + schemas, then the UI server) into
 * the user's cache directory and returns the paths. A first build takes ~10 min on 2 cores.
 */
export async function ensureClusterBinaries(
  env: NodeJS.ProcessEnv = process.env,
  say: (line: string) => void = () => undefined,
): Promise<ClusterBinaries> {
  const cached = cachedClusterBinaries(env);
  if (cached) return cached;
  const blocker = clusterBuildBlocker(env);
  if (blocker) throw new ClusterUnavailable(blocker);
  const go = findGo(env) as string;
  const bins = expected(env);

  const sdir = serverDir(env);
  await withLock(sdir, say, async () => {
    if (fs.existsSync(path.join(sdir, 'complete'))) return;
    say(
      `building temporal-server and temporal-sql-tool ${TEMPORAL_SERVER_VERSION} from the Go module proxy ` +
        `(first time only: ~10 min and ~2 GB of memory on 2 cores; cached in ${sdir})…`,
    );
    const staging = `${sdir}.staging`;
    fs.rmSync(staging, { recursive: true, force: true });
    fs.mkdirSync(staging, { recursive: true });
    await goInstall(
      go,
      [
        `go.temporal.io/server/cmd/server@v${TEMPORAL_SERVER_VERSION}`,
        `go.temporal.io/server/cmd/tools/sql@v${TEMPORAL_SERVER_VERSION}`,
      ],
      path.join(staging, 'bin'),
      path.join(path.dirname(sdir), `build-${TEMPORAL_SERVER_VERSION}.log`),
      env,
      say,
      `temporal-server ${TEMPORAL_SERVER_VERSION}`,
    );
    fs.renameSync(path.join(staging, 'bin', 'server'), path.join(staging, 'temporal-server'));
    fs.renameSync(path.join(staging, 'bin', 'sql'), path.join(staging, 'temporal-sql-tool'));
    fs.rmSync(path.join(staging, 'bin'), { recursive: true, force: true });
    const moduleDir = path.join(goEnv(go, env, 'GOMODCACHE'), `go.temporal.io/server@v${TEMPORAL_SERVER_VERSION}`);
    fs.cpSync(path.join(moduleDir, 'schema', 'postgresql', 'v12'), path.join(staging, 'schema', 'postgresql', 'v12'), {
      recursive: true,
    });
    chmodTree(path.join(staging, 'schema'));
    fs.writeFileSync(path.join(staging, 'complete'), `${new Date().toISOString()}\n`);
    fs.rmSync(sdir, { recursive: true, force: true });
    fs.renameSync(staging, sdir);
  });

  const udir = uiDir(env);
  await withLock(udir, say, async () => {
    if (fs.existsSync(path.join(udir, 'complete'))) return;
    say(
      `building the Temporal Web UI server ${TEMPORAL_UI_SERVER_VERSION} (first time only: ~2 min; cached in ${udir})…`,
    );
    const staging = `${udir}.staging`;
    fs.rmSync(staging, { recursive: true, force: true });
    fs.mkdirSync(staging, { recursive: true });
    await goInstall(
      go,
      [`github.com/temporalio/ui-server/v2/cmd/server@v${TEMPORAL_UI_SERVER_VERSION}`],
      path.join(staging, 'bin'),
      path.join(path.dirname(udir), `build-${TEMPORAL_UI_SERVER_VERSION}.log`),
      env,
      say,
      `temporal-ui-server ${TEMPORAL_UI_SERVER_VERSION}`,
    );
    fs.renameSync(path.join(staging, 'bin', 'server'), path.join(staging, 'temporal-ui-server'));
    fs.rmSync(path.join(staging, 'bin'), { recursive: true, force: true });
    fs.writeFileSync(path.join(staging, 'complete'), `${new Date().toISOString()}\n`);
    fs.rmSync(udir, { recursive: true, force: true });
    fs.renameSync(staging, udir);
  });
  return bins;
}

/** Module-cache files are read-only; the copies must be readable by everyone (PostgreSQL's user reads none, but tools may). */
function chmodTree(dir: string): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      fs.chmodSync(p, 0o755);
      chmodTree(p);
    } else fs.chmodSync(p, 0o644);
  }
  fs.chmodSync(dir, 0o755);
}
