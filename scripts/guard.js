#!/usr/bin/env node
// Runs one child and ties its life to ours and to our parent's: when the parent dies (even by
// SIGKILL) our stdin closes and we stop the child, so a killed test run leaves no orphan server.
'use strict';
const { spawn } = require('node:child_process');

const [cmd, ...args] = process.argv.slice(2);
const child = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
let stopping = false;

function stop(signal) {
  if (stopping) return;
  stopping = true;
  if (child.exitCode === null) child.kill(signal);
  setTimeout(() => child.exitCode === null && child.kill('SIGKILL'), 5000).unref();
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
