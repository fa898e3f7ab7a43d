#!/usr/bin/env node
'use strict';
// A reader that closed our output early (`iwae results | head`): stop quietly with the status a Unix tool
// killed by SIGPIPE gets (128 + 13), as Node ignores SIGPIPE and would otherwise crash on EPIPE with a
// stack. Not 0: a long command (train, grid) cut short this way did not finish. Any other write error on
// stdout/stderr (e.g. a full disk under `> file`): one line, exit 1.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err && err.code === 'EPIPE') process.exit(141);
    try { process.stderr.write(`iwae: cannot write output: ${err && err.message}\n`); } catch { /* stderr is the broken one */ }
    process.exit(1);
  });
}
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
