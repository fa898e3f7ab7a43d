#!/usr/bin/env node
'use strict';
// TensorFlow's C++ logging would otherwise print CPU-feature notices on every start.
process.env.TF_CPP_MIN_LOG_LEVEL = process.env.TF_CPP_MIN_LOG_LEVEL || '2';
require('tsx/cjs');
// Before anything loads TensorFlow: it sizes its thread pools once, at start-up.
require('../lib/env/tensorflow-threads.ts').applyTrainingThreads(process.argv.slice(2), process.env);
const { main } = require('../lib/cli/program.ts');
main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`iwae: internal error: ${err && err.stack ? err.stack : err}\n`); process.exitCode = 1; },
);
