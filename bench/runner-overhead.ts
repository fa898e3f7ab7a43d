/**
 * What the runner adds around the optimizer steps of one run, as a share of wall-clock time: per epoch
 * the test pass, the training-set activity pass, the checkpoint, metrics, TensorBoard events and PNGs;
 * per run the final evaluation. Trains one run of a profile (default quick: IWAE k=5, he-normal) into a
 * temp directory, timing the steps through trainRun's hooks, so both shares come from one process.
 * Run: `npx tsx bench/runner-overhead.ts [profile=quick] [epochs] [--no-final]` (--no-final: skip the
 * final evaluation, e.g. the paper profile's L_5000 on 10,000 images, which takes many minutes). An 80-epoch paper run's time is
 * estimated from the measured per-step and per-epoch costs at full data (printed, labeled as estimate).
 */
import './training-threads';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseRunConfig } from '../lib/config/run-config';
import { loadMnist } from '../lib/data/mnist';
import { executeRun } from '../lib/experiments/execute-run';
import { trainRun } from '../lib/training/run';
import { isProfileName, PROFILES } from '../lib/experiments/profiles';

async function main(): Promise<void> {
  const profileName = process.argv[2] ?? 'quick';
  if (!isProfileName(profileName)) throw new Error(`unknown profile ${profileName}`);
  const profile = PROFILES[profileName];
  const epochs = Number(process.argv[3] ?? profile.settings.epochs ?? 80);
  const withFinal = !process.argv.includes('--no-final');
  const config = parseRunConfig({ ...profile.settings, model: 'iwae', k: 5, init: 'he-normal', seed: 135, epochs });
  const data = await loadMnist({ cacheDir: resolve(__dirname, '..', 'data', 'mnist') });
  const dir = mkdtempSync(join(tmpdir(), 'iwae-overhead-'));
  let epochStart = performance.now();
  let lastStep = epochStart;
  let stepSeconds = 0;
  let epochSeconds = 0;
  let steps = 0;
  const runStart = performance.now();
  let trainingEnd = runStart;
  try {
    await (withFinal ? executeRun : trainRun)(config, data, dir, {
      onStep: () => {
        lastStep = performance.now();
        steps += 1;
      },
      onEpoch: (m) => {
        const now = performance.now();
        stepSeconds += (lastStep - epochStart) / 1000;
        epochSeconds += (now - epochStart) / 1000;
        console.log(`epoch ${m.epoch}: ${((now - epochStart) / 1000).toFixed(2)} s, of which steps ${((lastStep - epochStart) / 1000).toFixed(2)} s`);
        epochStart = now;
        trainingEnd = now;
      },
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const runSeconds = (performance.now() - runStart) / 1000;
  const finalSeconds = (performance.now() - trainingEnd) / 1000;
  const perEpochOverhead = 1 - stepSeconds / epochSeconds;
  console.log(`${profile.label}: ${epochs} epochs x ${config.trainSize} images, ${steps} steps, ${(1000 * stepSeconds / steps).toFixed(2)} ms/step`);
  console.log(`per-epoch runner overhead (test pass, activity pass, checkpoint, metrics, TensorBoard, PNGs): ${(100 * perEpochOverhead).toFixed(1)}% of epoch time`);
  if (withFinal) console.log(`final evaluation (L_${config.evaluation.finalK} on ${config.evaluation.finalTestSize} images + active units): ${finalSeconds.toFixed(2)} s`);
  console.log(`whole-run overhead (everything but optimizer steps): ${(100 * (1 - stepSeconds / runSeconds)).toFixed(1)}% of ${runSeconds.toFixed(1)} s`);
  const fullSteps = 80 * Math.ceil(60_000 / 20);
  const estimate = (fullSteps * stepSeconds) / steps / (1 - perEpochOverhead);
  console.log(`estimate for one 80-epoch paper run (60,000 images, before its L_5000 evaluation): ${(estimate / 3600).toFixed(2)} h`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
