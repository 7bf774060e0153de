/**
 * Starts the system's Chromium (Debian's `chromium` package; `.ci/run` installs it) through `playwright-core`,
 * headless, with a fresh profile directory: IndexedDB persists across reloads and navigations of the returned
 * context, and is removed by `close()`. Playwright's own browser downloads are never used. Test-only.
 */

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

/** Where Debian's `chromium` package puts the browser. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Flags for a quiet, self-contained headless run as root in a container: no sandbox (root, no user namespaces), no
 * GPU, no QUIC, and none of the background traffic (component updates, sync, first-run pages).
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A running Chromium with one persistent profile. */
export interface Chromium {
  readonly context: BrowserContext;
  /** Closes the browser and removes the profile directory. Idempotent. */
  close(): Promise<void>;
}

/** Launches Chromium with a fresh temporary profile. */
export async function launchChromium(): Promise<Chromium> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `no Chromium at ${CHROMIUM_PATH}: install Debian's chromium package (apt-get install chromium), see client/docs/browser.md`,
    );
  }
  const profile = mkdtempSync(join(tmpdir(), 'vibestack-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS],
      timeout: 120_000,
    });
    let closed: Promise<void> | undefined;
    return {
      context,
      close() {
        closed ??= context.close().finally(() => rmSync(profile, { recursive: true, force: true }));
        return closed;
      },
    };
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
}
