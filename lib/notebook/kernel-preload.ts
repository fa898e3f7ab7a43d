// Preloaded into the notebook kernel before tslab starts (kernel.json, written by scripts/setup.sh:
// `node --require tsx/cjs --require ./lib/notebook/kernel-preload.ts .../tslab kernel`):
// - stack traces of errors inside cells name the .ts sources (lib/notebook/ts-sources.ts);
// - Kernel > Interrupt prints one line, not tslab's stack trace (lib/notebook/interrupt.ts). This must
//   run before tslab captures `console.error`, hence a preload.
import { quietInterrupts } from './interrupt';
import { runMissingJsFromTsSources } from './ts-sources';

runMissingJsFromTsSources();
quietInterrupts();
