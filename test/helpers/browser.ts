import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { PROJECT_ROOT } from '../../lib/binaries';

// Debian's chromium driven by playwright-core: no browser is ever downloaded. CI installs the
// `chromium` package (see .ci/run); a machine without it skips the browser tests, saying why.

export const CHROMIUM_PATH = process.env.BINDFLOW_CHROMIUM ?? '/usr/bin/chromium';

/** Where browser tests keep their screenshots (git-ignored). */
export const ARTIFACTS_DIR = path.join(PROJECT_ROOT, 'test-artifacts');

export function chromiumAvailable(): boolean {
  try {
    fs.accessSync(CHROMIUM_PATH, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export const CHROMIUM_MISSING =
  `${CHROMIUM_PATH} is missing: skipping the Web UI browser test ` +
  '(install Debian\'s "chromium" package, or set BINDFLOW_CHROMIUM to a Chromium binary)';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    // Headless and quiet: no sandbox (containers), no GPU, no network calls of the browser's own.
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    timeout: 60_000,
  });
}

export function artifactPath(name: string): string {
  fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
  return path.join(ARTIFACTS_DIR, name);
}
