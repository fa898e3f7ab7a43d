/**
 * Imported first by the bench scripts, for its effect: TensorFlow gets the thread setting training runs
 * with (lib/env/tensorflow-threads.ts; a TF_NUM_INTRAOP_THREADS already set wins). It has to be in the
 * environment before TensorFlow loads, so this module must come before any import that loads tfjs-node.
 */
import { applyTrainingThreads } from '../lib/env/tensorflow-threads';

applyTrainingThreads(['train'], process.env);
