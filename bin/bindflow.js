#!/usr/bin/env node
// Entry point of `npx bindflow`: TypeScript sources run through tsx's CommonJS loader.
'use strict';
require('tsx/cjs');
require('../client/cli.ts')
  .main(process.argv.slice(2))
  .then((code) => {
    if (typeof code === 'number') process.exitCode = code;
  })
  .catch((err) => {
    process.stderr.write(`bindflow: ${err && err.message ? err.message : err}\n`);
    process.exitCode = 1;
  });
