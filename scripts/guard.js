#!/usr/bin/env node
// Runs one child and ties its life to ours and to our parent's: when the parent dies (even by
// SIGKILL) our stdin closes and we stop the child, so a killed test run leaves no orphan server.
'use strict';
const { spawn } = require('node:child_process');

const [cmd, ...args] = process.argv.slice(2);
// GUARD_STOP_SIGNAL: the signal every stop is turned into (PostgreSQL shuts down fast on SIGINT, but
// waits for every client on SIGTERM); GUARD_KILL_AFTER_MS: how long before SIGKILL (default 5 s).
const stopSignal = process.env.GUARD_STOP_SIGNAL || null;
const killAfterMs = Number(process.env.GUARD_KILL_AFTER_MS || 5000);
// GUARD_UID / GUARD_GID: run the child as that user (root starting PostgreSQL), while the guard itself stays
// the caller, who can read this script wherever the checkout is.
const ids = process.env.GUARD_UID ? { uid: Number(process.env.GUARD_UID), gid: Number(process.env.GUARD_GID) } : {};
const child = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...ids });
let stopping = false;

function stop(signal) {
  if (stopping) return;
  stopping = true;
  if (child.exitCode === null) child.kill(stopSignal || signal);
  setTimeout(() => child.exitCode === null && child.kill('SIGKILL'), killAfterMs).unref();
}

child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
child.on('error', (err) => {
  process.stderr.write(`[guard] cannot start ${cmd}: ${err.message}\n`);
  process.exit(127);
});
process.stdin.on('end', () => stop('SIGTERM'));
process.stdin.on('close', () => stop('SIGTERM'));
process.stdin.resume();
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(s, () => stop(s));
