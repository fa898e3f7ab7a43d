import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Where Chromium or Chrome usually lives, in the order we try them. */
const COMMON_LOCATIONS = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/snap/bin/chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
];
const COMMAND_NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'chrome'];

export class ChromiumNotFoundError extends Error {
  constructor(detail: string) {
    super(
      `no Chromium/Chrome found for PDF export (${detail}); set CHROME_PATH to a Chrome or Chromium binary, ` +
        `or run \`make setup\` as root to install Debian's chromium`,
    );
    this.name = 'ChromiumNotFoundError';
  }
}

/**
 * Finds a Chromium executable: `CHROME_PATH` when set (it must exist), else the usual locations and
 * the PATH. Returns undefined when none is found.
 */
export function findChromium(env: NodeJS.ProcessEnv): string | undefined {
  const explicit = env.CHROME_PATH;
  if (explicit) {
    if (!existsSync(explicit)) throw new ChromiumNotFoundError(`CHROME_PATH=${explicit} does not exist`);
    return explicit;
  }
  for (const candidate of COMMON_LOCATIONS) if (existsSync(candidate)) return candidate;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    for (const name of COMMAND_NAMES) {
      const candidate = join(dir, name);
      if (existsSync(candidate)) return candidate;
    }
  }
  return undefined;
}

/** Like `findChromium`, but a missing browser is an error naming CHROME_PATH. */
export function requireChromium(env: NodeJS.ProcessEnv): string {
  const found = findChromium(env);
  if (!found) throw new ChromiumNotFoundError('CHROME_PATH is not set and no usual location has one');
  return found;
}
