// The Crews example app (web build) in headless Chromium, against a real
// hearth: an invite link opened in the browser joins the crew, and a post
// made with the network cut is shown as pending, then delivered to the
// other person when the network returns.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PASSWORD, startHearth } from '../e2e/harness.mjs';
import { serveWeb } from '../examples/crews-app/web/serve.mjs';
import { launch, shot } from './browser.mjs';

let hearth;
let web;
let browser;
before(async () => {
  hearth = await startHearth();
  web = await serveWeb({ hearthUrl: hearth.url });
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await web?.close();
  await hearth?.stop();
});

// The longest wait for something the app must show: a timeout that fails a
// stuck test, never a measurement.
const SHOWN = { timeout: 15_000 };

/** person opens the app at path in a new browser context (its own storage) and signs up. */
async function person(name, path = '/') {
  const context = await browser.newContext({ viewport: { width: 480, height: 820 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(web.url + path);
  await page.getByTestId('toggle-mode').click();
  await page.getByTestId('name').fill(name);
  await page.getByTestId('email').fill(`${name.toLowerCase()}@offline.test`);
  await page.getByTestId('password').fill(PASSWORD);
  await page.getByTestId('submit').click();
  return { context, page, errors };
}

test('an invite link opened in the browser joins the crew; a post made offline is pending, then delivered', async () => {
  const ann = await person('Ann');
  const A = ann.page;
  await A.getByText('My groups').waitFor(SHOWN);
  await A.getByTestId('new-group-name').fill('Hikers');
  await A.getByTestId('create-group').click();
  await A.getByTestId('group-Hikers').click();
  await A.getByTestId('create-invite').click();
  const code = (await A.getByTestId('invite-code').textContent()).trim();

  // Bob follows the link (the web build's /join/<code>): once signed up,
  // the app joins the crew and opens it.
  const bob = await person('Bob', `/join/${code}`);
  const B = bob.page;
  await B.getByTestId('group-title').getByText('Hikers').waitFor(SHOWN);
  assert.equal(new URL(B.url()).pathname, '/', 'the link is consumed: a reload does not join again');
  const members = await (await hearth.superuser()).collection('memberships').getFullList({ filter: `group.name = "Hikers"` });
  assert.equal(members.length, 2);
  await shot(B, 'offline-1-bob-joined-by-link');

  // Bob's network is cut: his post is shown at once, pending.
  await bob.context.setOffline(true);
  await B.getByTestId('offline-banner').waitFor(SHOWN);
  await B.getByTestId('message-input').fill('Posted from the tunnel');
  await B.getByTestId('send').click();
  const mine = B.getByTestId('message').filter({ hasText: 'Posted from the tunnel' });
  await mine.getByTestId('pending').waitFor(SHOWN);
  await shot(B, 'offline-2-bob-pending');
  assert.equal(await A.getByText('Posted from the tunnel').count(), 0, 'nothing reaches Ann while Bob is offline');

  // The network returns: the post is sent once, Ann receives it.
  await bob.context.setOffline(false);
  await A.getByText('Posted from the tunnel').waitFor(SHOWN);
  await mine.getByTestId('pending').waitFor({ state: 'detached', ...SHOWN });
  const stored = await (await hearth.superuser()).collection('messages').getFullList({ filter: `body = "Posted from the tunnel"` });
  assert.equal(stored.length, 1, 'sent exactly once');
  await shot(A, 'offline-3-ann-received');

  assert.deepEqual([...ann.errors, ...bob.errors], [], 'no uncaught errors');
  await ann.context.close();
  await bob.context.close();
});
