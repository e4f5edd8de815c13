#!/usr/bin/env node
// promtool (Prometheus's rule checker) for ops/prometheus: built from the Go module proxy on first use and
// cached per version in the user's cache directory, ${XDG_CACHE_HOME:-~/.cache}/bindflow/promtool/<version>/.
// `node scripts/promtool.js` prints its path (building it first if needed); the test of the alert rules
// (test/unit/ops-prometheus.test.ts) calls ensurePromtool(). Plain JavaScript, like the other install scripts.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');

/** github.com/prometheus/prometheus v0.316.0 is Prometheus 3.16.0; its go.mod asks Go 1.26.7 and has no replace. */
const PROMTOOL_VERSION = 'v0.316.0';
const PROMTOOL_PACKAGE = 'github.com/prometheus/prometheus/cmd/promtool';
const MIN_GO = [1, 26, 7];
/** A Go older than MIN_GO builds with this toolchain, which the go command fetches from the module proxy. */
const FALLBACK_TOOLCHAIN = 'go1.27.3';

function cacheDir(version = PROMTOOL_VERSION, env = process.env) {
  const base =
    env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(os.homedir(), '.cache');
  return path.join(base, 'bindflow', 'promtool', version);
}

/** `go1.26.8` → [1, 26, 8]; null when there is no usable go command. */
function goVersion(env = process.env) {
  const r = spawnSync('go', ['env', 'GOVERSION'], { encoding: 'utf8', env, timeout: 60_000 });
  if (r.error || r.status !== 0) return null;
  const m = /go(\d+)\.(\d+)(?:\.(\d+))?/.exec(r.stdout);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : null;
}

function olderThan(a, b) {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] < b[i];
  return false;
}

function works(file) {
  const r = spawnSync(file, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  return !r.error && r.status === 0 && /promtool/i.test(r.stdout + r.stderr);
}

/**
 * The path of a working promtool of PROMTOOL_VERSION, built into the cache on first use, or
 * `{ skipped: reason }` when there is no Go to build it with. A failed build throws with the go command's output.
 */
async function ensurePromtool({ log = (m) => process.stderr.write(`[bindflow] ${m}\n`), env = process.env } = {}) {
  const dir = cacheDir(PROMTOOL_VERSION, env);
  const bin = path.join(dir, 'promtool');
  if (fs.existsSync(bin) && works(bin)) return { path: bin };
  const go = goVersion(env);
  if (!go) return { skipped: 'no Go toolchain (`go` on PATH) to build promtool from the Go module proxy' };
  const toolchain = olderThan(go, MIN_GO) ? FALLBACK_TOOLCHAIN : env.GOTOOLCHAIN || 'local';
  fs.mkdirSync(dir, { recursive: true });
  // Built into a directory of its own, then renamed into place: a build running at the same time elsewhere
  // never sees half a binary.
  const tmp = fs.mkdtempSync(path.join(dir, '.build-'));
  log(
    `building promtool ${PROMTOOL_VERSION} (${PROMTOOL_PACKAGE}) from the Go module proxy into ${dir}` +
      ` with go${go.join('.')} (GOTOOLCHAIN=${toolchain}); first use only, several minutes on 2 cores`,
  );
  const started = Date.now();
  const output = [];
  const code = await new Promise((resolve) => {
    const child = spawn('go', ['install', `${PROMTOOL_PACKAGE}@${PROMTOOL_VERSION}`], {
      env: { ...env, GOBIN: tmp, GOTOOLCHAIN: toolchain, GOFLAGS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (d) => {
      output.push(d.toString());
      if (output.length > 200) output.shift();
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (err) => {
      output.push(String(err));
      resolve(-1);
    });
    child.on('close', (c) => resolve(c));
  });
  const built = path.join(tmp, 'promtool');
  if (code !== 0 || !fs.existsSync(built)) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new Error(`building promtool ${PROMTOOL_VERSION} failed (exit ${code}):\n${output.join('').slice(-4000)}`);
  }
  fs.renameSync(built, bin);
  fs.rmSync(tmp, { recursive: true, force: true });
  log(`promtool ${PROMTOOL_VERSION} built in ${Math.round((Date.now() - started) / 1000)} s: ${bin}`);
  if (!works(bin)) throw new Error(`${bin} does not run`);
  return { path: bin };
}

module.exports = { ensurePromtool, cacheDir, PROMTOOL_VERSION };

if (require.main === module) {
  ensurePromtool().then(
    (r) => {
      if (r.skipped) {
        process.stderr.write(`[bindflow] promtool not built: ${r.skipped}\n`);
        process.exit(2);
      }
      process.stdout.write(`${r.path}\n`);
    },
    (err) => {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    },
  );
}
