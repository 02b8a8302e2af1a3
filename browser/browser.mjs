// The browser tests' harness: Debian's Chromium (installed by `make
// chromium`), headless, driven by playwright-core; the Crews web build
// served next to a real hearth (e2e/harness.mjs).
//
//   const browser = await launch();
//   const page = await (await browser.newContext()).newPage();
//   ...
//   await shot(page, 'groups');   // BROWSER_SHOTS=dir keeps screenshots to look at
//   await browser.close();
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

/** launch starts headless Chromium; no GPU, no sandbox (tests run as root), no background traffic. */
export function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** shot saves a screenshot of page as <BROWSER_SHOTS>/<name>.png when BROWSER_SHOTS is set. */
export async function shot(page, name) {
  const dir = process.env.BROWSER_SHOTS;
  if (!dir) return;
  await mkdir(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}
