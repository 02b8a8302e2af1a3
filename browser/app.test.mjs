// The Crews example app (examples/crews-app, web build) in headless
// Chromium, two browser contexts as two people, against a real hearth:
// invite and join, realtime chat, the waitlist, offline and back, sign-out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PASSWORD } from '../e2e/harness.mjs';
import { SHOWN, shot, sqliteDatabases, webApp } from './browser.mjs';

const app = webApp();

/** person opens the app in a new browser context (its own storage) and signs up. */
async function person(name) {
  const context = await app.browser.newContext({ viewport: { width: 480, height: 820 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // The app talks to its own origin and its Hearth server, nothing else
  // (NetInfo's reachability check included).
  context.on('request', (r) => {
    if (!r.url().startsWith(app.web.url) && !r.url().startsWith(app.hearth.url)) errors.push(`request to ${r.url()}`);
  });
  await page.goto(app.web.url);
  await page.getByTestId('toggle-mode').click();
  await page.getByTestId('name').fill(name);
  await page.getByTestId('email').fill(`${name.toLowerCase()}@app.test`);
  await page.getByTestId('password').fill(PASSWORD);
  await page.getByTestId('submit').click();
  await page.getByText('My groups').waitFor(SHOWN);
  return { context, page, errors, email: `${name.toLowerCase()}@app.test` };
}

/** storedKeys lists the app's keys in the page's localStorage (AsyncStorage on the web). */
const storedKeys = (page) => page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('hearth.')).sort());

test('two people: invite, join, chat, waitlist, offline and back, sign-out', async () => {
  const ann = await person('Ann');
  const bob = await person('Bob');
  const A = ann.page;
  const B = bob.page;

  // Ann creates a group and an invite.
  await A.getByTestId('new-group-name').fill('Climbers');
  await A.getByTestId('create-group').click();
  await A.getByTestId('group-Climbers').click();
  await A.getByTestId('create-invite').click();
  const code = (await A.getByTestId('invite-code').textContent()).trim();
  assert.match(code, /^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{12}$/);
  await shot(A, 'app-1-ann-invite');

  // Bob joins with the code and lands in the group.
  await B.getByTestId('join-code').fill(code);
  await B.getByTestId('join').click();
  await B.getByTestId('group-title').getByText('Climbers').waitFor(SHOWN);

  // Ann posts; Bob sees it without reloading.
  await A.getByTestId('message-input').fill('Meet at the crag at 9');
  await A.getByTestId('send').click();
  await B.getByText('Meet at the crag at 9').waitFor(SHOWN);
  await shot(B, 'app-2-bob-chat');

  // A full event: Ann takes its one place, Bob is waitlisted, then promoted
  // when Ann cannot go.
  await A.getByTestId('tab-events').click();
  await A.getByTestId('event-title').fill('Crag day');
  await A.getByTestId('event-capacity').fill('1');
  await A.getByTestId('create-event').click();
  const annEvent = A.getByTestId('event-Crag day');
  await annEvent.getByTestId('rsvp-going').click();
  await annEvent.getByText('You are going').waitFor(SHOWN);

  await B.getByTestId('tab-events').click();
  const bobEvent = B.getByTestId('event-Crag day');
  await bobEvent.getByTestId('rsvp-going').click();
  await bobEvent.getByText('You are waitlisted (#1 in line)').waitFor(SHOWN);
  await shot(B, 'app-3-bob-waitlisted');
  await annEvent.getByTestId('rsvp-declined').click();
  await bobEvent.getByText('You are going').waitFor(SHOWN);
  await bobEvent.getByTestId('promoted').waitFor(SHOWN);
  assert.equal(await bobEvent.getByTestId('going-count').textContent(), '1');
  await shot(B, 'app-4-bob-promoted');

  // Bob goes offline: the app keeps showing the synced store, and says so.
  await B.getByTestId('tab-chat').click();
  await bob.context.setOffline(true);
  await B.getByTestId('offline-banner').waitFor(SHOWN);
  assert.ok(await B.getByText('Meet at the crag at 9').isVisible(), 'the synced messages stay on screen');
  await A.getByTestId('tab-chat').click();
  await A.getByTestId('message-input').fill('Rope is in my car');
  await A.getByTestId('send').click();
  await A.getByText('Rope is in my car').waitFor(SHOWN);
  // Bob's own post is queued while offline and shown as pending (sent on
  // return: browser/offline.test.mjs).
  await B.getByTestId('message-input').fill('Can anyone hear me?');
  await B.getByTestId('send').click();
  await B.getByTestId('pending').waitFor(SHOWN);
  assert.equal(await B.getByText('Rope is in my car').count(), 0, 'nothing arrives while offline');
  await shot(B, 'app-5-bob-offline');

  // Back online: the sync after the reconnect brings Ann's message.
  await bob.context.setOffline(false);
  await B.getByText('Rope is in my car').waitFor(SHOWN);
  await B.getByTestId('offline-banner').waitFor({ state: 'detached', ...SHOWN });
  await shot(B, 'app-6-bob-back');

  // The store was on the device; signing out removes it and the session.
  // The session in localStorage, the records in the user's SQLite
  // database (expo-sqlite on OPFS).
  const bobId = await B.evaluate(() => JSON.parse(localStorage.getItem('hearth.auth')).record.id);
  const bobsDatabase = async () => (await sqliteDatabases(B)).find((d) => d.path.endsWith(`/hearth-${bobId}.db`))?.data ?? '';
  assert.deepEqual(await storedKeys(B), ['hearth.auth']);
  assert.match(await bobsDatabase(), /Rope is in my car/);
  await B.getByTestId('back').click();
  await B.getByTestId('sign-out').click();
  await B.getByTestId('submit').waitFor(SHOWN);
  assert.deepEqual(await storedKeys(B), [], 'no session stays on the device');
  assert.doesNotMatch(await bobsDatabase(), /Rope is in my car|Climbers/, 'no synced record stays on the device');
  await B.reload();
  await B.getByTestId('submit').waitFor(SHOWN);
  assert.equal(await B.getByText('Climbers').count(), 0);

  // Signing in again syncs from the server.
  await B.getByTestId('email').fill(bob.email);
  await B.getByTestId('password').fill(PASSWORD);
  await B.getByTestId('submit').click();
  await B.getByTestId('group-Climbers').waitFor(SHOWN);

  assert.deepEqual([...ann.errors, ...bob.errors], [], 'no uncaught errors, no requests elsewhere');
  await ann.context.close();
  await bob.context.close();
});

test('a refused sign-up shows what the server said about the field, not "Failed to create record."', async () => {
  const context = await app.browser.newContext({ viewport: { width: 480, height: 820 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(app.web.url);
  await page.getByTestId('toggle-mode').click();
  await page.getByTestId('name').fill('Cleo');
  await page.getByTestId('email').fill('cleo@app.test');
  await page.getByTestId('password').fill('short');
  await page.getByTestId('submit').click();
  // PocketBase's own message for the password field (data.password.message).
  await page.getByTestId('password-error').getByText('Must be at least 8 character(s).').waitFor(SHOWN);
  assert.equal(await page.getByTestId('auth-error').count(), 0, 'no general message beside the field\'s');
  assert.equal(await page.getByText('Failed to create record.').count(), 0);
  await shot(page, 'app-7-field-error');
  assert.deepEqual(errors, []);
  await context.close();
});
