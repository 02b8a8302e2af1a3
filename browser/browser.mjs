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
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';
import { startHearth } from '../e2e/harness.mjs';
import { serveWeb } from '../examples/crews-app/web/serve.mjs';

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

/**
 * SHOWN is the longest wait for something a page must show: a timeout that
 * fails a stuck test, never a measurement.
 */
export const SHOWN = { timeout: 15_000 };

/**
 * webApp starts a hearth, the Crews web build served next to it and
 * Chromium before the file's tests, and stops them after; the fields of
 * what it returns are set once the tests run.
 *
 *   const app = webApp();
 *   test('…', async () => { const page = await (await app.browser.newContext()).newPage(); await page.goto(app.web.url); });
 */
export function webApp() {
  const app = { hearth: null, web: null, browser: null };
  before(async () => {
    app.hearth = await startHearth();
    app.web = await serveWeb({ hearthUrl: app.hearth.url });
    app.browser = await launch();
  });
  after(async () => {
    await app.browser?.close();
    await app.web?.close();
    await app.hearth?.stop();
  });
  return app;
}

/**
 * sqliteDatabases reads the SQLite databases the web build keeps in the
 * page's origin private file system (OPFS). expo-sqlite's web worker
 * stores them through wa-sqlite's AccessHandlePoolVFS: a pool of files
 * named at random in the folder `expo-sqlite`, each with a 4096-byte
 * header whose first bytes are the path of the database it holds (empty
 * for a free file) and the database's bytes after it. It returns
 * { path, data } for each file in use, data being the database's bytes
 * as text (Latin-1: one character a byte, for includes()).
 */
export function sqliteDatabases(page) {
  return page.evaluate(async () => {
    const HEADER = 4096;
    const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('expo-sqlite');
    const found = [];
    for await (const handle of dir.values()) {
      const bytes = new Uint8Array(await (await handle.getFile()).arrayBuffer());
      const end = bytes.indexOf(0);
      const path = new TextDecoder().decode(bytes.subarray(0, end));
      if (path) {
        found.push({ path, data: new TextDecoder('latin1').decode(bytes.subarray(HEADER)) });
      }
    }
    return found;
  });
}
