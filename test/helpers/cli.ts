import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '..', '..');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `bin/iwae.js` as a user would (a separate process, no stdin). */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 120_000): CliResult {
  const result = spawnSync(process.execPath, [resolve(REPO_ROOT, 'bin', 'iwae.js'), ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: timeoutMs,
  });
  return { code: result.status, stdout: result.stdout, stderr: withoutTensorFlowBanner(result.stderr) };
}

/**
 * TensorFlow 2.21's C++ library prints a start-up banner (absl log lines about oneDNN and CPU features)
 * on stderr when it loads, whatever TF_CPP_MIN_LOG_LEVEL says. It is not our output, so assertions about
 * our stderr lines drop exactly those lines and nothing else.
 */
export function withoutTensorFlowBanner(stderr: string): string {
  return stderr
    .split('\n')
    .filter((line) => !TF_BANNER.some((pattern) => pattern.test(line)))
    .join('\n');
}

const TF_BANNER = [
  /^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR$/,
  /^I0000 [\d:. ]+\d+ (port\.cc|cpu_feature_guard\.cc):\d+\] /,
  /^To enable the following instructions: .* in other operations, rebuild TensorFlow with the appropriate compiler flags\.$/,
];
