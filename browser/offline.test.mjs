// The Crews example app (web build) in headless Chromium, against a real
// hearth: an invite link opened in the browser joins the crew, and a post,
// an RSVP and an edit made with the network cut are shown as pending, then
// delivered (the post and the edit to the other person, the RSVP as the
// server decided it) when the network returns; an event edited through
// the queue reaches the other person (its new capacity promotes them).
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

test('an invite link opened in the browser joins the crew; a post, an RSVP and an edit made offline are pending, then delivered', async () => {
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

  // A full event: Ann takes its one place; Bob sees it (synced) before
  // his network is cut.
  await A.getByTestId('tab-events').click();
  await A.getByTestId('event-title').fill('Summit');
  await A.getByTestId('event-capacity').fill('1');
  await A.getByTestId('create-event').click();
  await A.getByTestId('event-Summit').getByTestId('rsvp-going').click();
  await A.getByTestId('event-Summit').getByText('You are going').waitFor(SHOWN);
  await A.getByTestId('tab-chat').click();
  await B.getByTestId('tab-events').click();
  const summit = B.getByTestId('event-Summit');
  await summit.getByTestId('going-count').filter({ hasText: '1' }).waitFor(SHOWN);
  await B.getByTestId('tab-chat').click();

  // Bob's network is cut: his post is shown at once, pending.
  await bob.context.setOffline(true);
  await B.getByTestId('offline-banner').waitFor(SHOWN);
  await B.getByTestId('message-input').fill('Posted from the tunnel');
  await B.getByTestId('send').click();
  const mine = B.getByTestId('message').filter({ hasText: 'Posted from the tunnel' });
  await mine.getByTestId('pending').waitFor(SHOWN);
  await shot(B, 'offline-2-bob-pending');
  assert.equal(await A.getByText('Posted from the tunnel').count(), 0, 'nothing reaches Ann while Bob is offline');

  // Still offline, Bob answers "going" to the full event: the answer is
  // pending, and the card does not claim a place the server would not give.
  await B.getByTestId('tab-events').click();
  await summit.getByTestId('rsvp-going').click();
  await summit.getByTestId('rsvp-pending').getByText('Sending your answer "Going"').waitFor(SHOWN);
  assert.equal(await summit.getByTestId('rsvp-status').count(), 0, 'no status before the server decides');
  await shot(B, 'offline-3-bob-rsvp-pending');

  // The network returns: the answer is sent once, and the server's record
  // (waitlisted: the event is full) replaces the pending one.
  await bob.context.setOffline(false);
  await summit.getByText('You are waitlisted (#1 in line)').waitFor(SHOWN);
  await summit.getByTestId('rsvp-pending').waitFor({ state: 'detached', ...SHOWN });
  const rsvps = await (await hearth.superuser()).collection('rsvps').getFullList({ filter: `event.title = "Summit"`, sort: 'created' });
  assert.deepEqual(rsvps.map((r) => r.status), ['going', 'waitlisted'], 'one answer each, Bob\'s waitlisted');
  await B.getByTestId('tab-chat').click();

  // The post went too: sent once, Ann receives it.
  await A.getByText('Posted from the tunnel').waitFor(SHOWN);
  await mine.getByTestId('pending').waitFor({ state: 'detached', ...SHOWN });
  const stored = await (await hearth.superuser()).collection('messages').getFullList({ filter: `body = "Posted from the tunnel"` });
  assert.equal(stored.length, 1, 'sent exactly once');
  await shot(A, 'offline-4-ann-received');

  // Offline again, Bob edits the post: pending on his screen, unchanged on
  // Ann's until the network returns; then the one message holds the edit.
  await bob.context.setOffline(true);
  await B.getByTestId('offline-banner').waitFor(SHOWN);
  await mine.getByTestId('edit-message').click();
  await B.getByTestId('message-input').fill('Posted from the tunnel, now home');
  await B.getByTestId('send').click();
  const edited = B.getByTestId('message').filter({ hasText: 'now home' });
  await edited.getByTestId('pending').waitFor(SHOWN);
  assert.equal(await A.getByText('now home').count(), 0, 'the edit waits for the network');
  await bob.context.setOffline(false);
  await A.getByText('Posted from the tunnel, now home').waitFor(SHOWN);
  await edited.getByTestId('pending').waitFor({ state: 'detached', ...SHOWN });
  const after = await (await hearth.superuser()).collection('messages').getFullList({ filter: `group = "${members[0].group}"` });
  assert.deepEqual(after.map((m) => [m.id, m.body]), [[stored[0].id, 'Posted from the tunnel, now home']]);

  // Ann edits her event (through the queue too): one more place, and the
  // server moves Bob from the waitlist to going.
  await B.getByTestId('tab-events').click();
  await summit.getByText('You are waitlisted (#1 in line)').waitFor(SHOWN);
  await A.getByTestId('tab-events').click();
  await A.getByTestId('event-Summit').getByTestId('edit-event').click();
  await A.getByTestId('event-capacity').fill('2');
  await A.getByTestId('create-event').click();
  await summit.getByTestId('promoted').waitFor(SHOWN);
  await summit.getByText('You are going').waitFor(SHOWN);
  await A.getByTestId('event-Summit').getByTestId('event-pending').waitFor({ state: 'detached', ...SHOWN });

  assert.deepEqual([...ann.errors, ...bob.errors], [], 'no uncaught errors');
  await ann.context.close();
  await bob.context.close();
});
