// Headless Debian Chromium driven by playwright-core (never a downloaded browser), with screenshots
// of each step saved as test artifacts under test-artifacts/screenshots/.

import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.KAKUNIN_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = join(process.cwd(), 'test-artifacts', 'screenshots');

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // The machine's network is closed: without these, Chromium keeps trying to reach Google.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

/** Saves a full-page screenshot `<group>/<nn>-<step>.png` and returns its path. */
export function stepShooter(group: string): (page: Page, step: string) => Promise<string> {
  let n = 0;
  const dir = join(SCREENSHOTS, group);
  mkdirSync(dir, { recursive: true });
  return async (page, step) => {
    n++;
    const file = join(dir, `${String(n).padStart(2, '0')}-${step.replace(/[^a-z0-9-]+/gi, '-')}.png`);
    await page.screenshot({ path: file, fullPage: true });
    return file;
  };
}

/** A relying party's callback page on 127.0.0.1 (tests read code and state from the browser's URL). */
export async function startRpCallback(): Promise<{ redirectUri: string; close: () => void }> {
  const server = createServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>RP callback</h1>'),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    redirectUri: `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`,
    close: () => server.close(),
  };
}
