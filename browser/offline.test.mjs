// The Crews example app (web build) in headless Chromium, against a real
// hearth: an invite link opened in the browser joins the crew, and a post,
// an RSVP and an edit made with the network cut are shown as pending, then
// delivered (the post and the edit to the other person, the RSVP as the
// server decided it) when the network returns; an event edited through
// the queue reaches the other person (its new capacity promotes them).
// The store is SQLite (expo-sqlite's worker on OPFS), and what it holds is
// shown after a reload without the server; a write the server refuses is
// shown with its message, leaves the list and is not sent again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PASSWORD } from '../e2e/harness.mjs';
import { SHOWN, shot, sqliteDatabases, webApp } from './browser.mjs';

const app = webApp();

/** person opens the app at path in a new browser context (its own storage) and signs up. */
async function person(name, path = '/') {
  const context = await app.browser.newContext({ viewport: { width: 480, height: 820 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(app.web.url + path);
  await page.getByTestId('toggle-mode').click();
  await page.getByTestId('name').fill(name);
  await page.getByTestId('email').fill(`${name.toLowerCase()}@offline.test`);
  await page.getByTestId('password').fill(PASSWORD);
  await page.getByTestId('submit').click();
  return { context, page, errors };
}

/** signedIn is the id of the user signed in on page (the session in localStorage, AsyncStorage on the web). */
const signedIn = (page) => page.evaluate(() => JSON.parse(localStorage.getItem('hearth.auth')).record.id);

/** storedKeys lists the app's keys in the page's localStorage. */
const storedKeys = (page) => page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('hearth.')).sort());

/** until resolves once ok() holds, checking every 50 ms; it fails after SHOWN.timeout. */
async function until(ok) {
  for (const end = Date.now() + SHOWN.timeout; !ok(); ) {
    assert.ok(Date.now() < end, `still not so: ${ok}`);
    await new Promise((done) => setTimeout(done, 50));
  }
}

/** cutServer makes the hearth unreachable from context (its requests fail as offline ones do) while the web build stays served. */
function cutServer(context) {
  return context.route(`${app.hearth.url}/**`, (route) => route.abort('internetdisconnected'));
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
  const members = await (await app.hearth.superuser()).collection('memberships').getFullList({ filter: `group.name = "Hikers"` });
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
  const rsvps = await (await app.hearth.superuser()).collection('rsvps').getFullList({ filter: `event.title = "Summit"`, sort: 'created' });
  assert.deepEqual(rsvps.map((r) => r.status), ['going', 'waitlisted'], 'one answer each, Bob\'s waitlisted');
  await B.getByTestId('tab-chat').click();

  // The post went too: sent once, Ann receives it.
  await A.getByText('Posted from the tunnel').waitFor(SHOWN);
  await mine.getByTestId('pending').waitFor({ state: 'detached', ...SHOWN });
  const stored = await (await app.hearth.superuser()).collection('messages').getFullList({ filter: `body = "Posted from the tunnel"` });
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
  const after = await (await app.hearth.superuser()).collection('messages').getFullList({ filter: `group = "${members[0].group}"` });
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

test('the store is SQLite in OPFS (expo-sqlite\'s worker): after a reload with the server unreachable, the chat is shown from it', async () => {
  const cleo = await person('Cleo');
  const C = cleo.page;
  await C.getByText('My groups').waitFor(SHOWN);
  const cleoId = await signedIn(C);
  const [dan] = await app.hearth.signUpMany('Dan', 1);
  const group = await app.hearth.createGroup(dan, 'Archive');
  await (await app.hearth.superuser()).collection('memberships').create({ group: group.id, user: cleoId, role: 'member' });
  await dan.collection('messages').create({ group: group.id, body: 'Kept in SQLite' });
  await C.getByTestId('group-Archive').click();
  await C.getByText('Kept in SQLite').waitFor(SHOWN);

  // The page is cross-origin isolated (web/serve.mjs), expo-sqlite's worker
  // runs, localStorage holds only the session, and the message is in the
  // user's SQLite database on OPFS.
  assert.equal(await C.evaluate(() => crossOriginIsolated), true);
  assert.deepEqual(C.workers().map((w) => new URL(w.url()).pathname), ['/sqlite-worker.js']);
  assert.deepEqual(await storedKeys(C), ['hearth.auth']);
  const databases = await sqliteDatabases(C);
  const mine = databases.filter((d) => d.path.endsWith(`/hearth-${cleoId}.db`));
  assert.equal(mine.length, 1, `one database for the user among ${databases.map((d) => d.path)}`);
  assert.ok(mine[0].data.startsWith('SQLite format 3\0'), 'a SQLite database');
  assert.ok(mine[0].data.includes('Kept in SQLite'), 'the message is in it');

  // The server unreachable, the page reloaded: the app starts from its
  // SQLite store (nothing else on the device holds the message).
  await cutServer(cleo.context);
  await C.reload();
  await C.getByTestId('group-Archive').click(SHOWN);
  await C.getByTestId('offline-banner').waitFor(SHOWN);
  await C.getByText('Kept in SQLite').waitFor(SHOWN);
  assert.deepEqual(await storedKeys(C), ['hearth.auth']);
  await shot(C, 'offline-5-reloaded-from-sqlite');
  assert.deepEqual(cleo.errors, []);
  await cleo.context.close();
});

test('a write refused on replay is shown with the server\'s message, leaves the list, and is not sent again', async () => {
  const eve = await person('Eve');
  const E = eve.page;
  await E.getByText('My groups').waitFor(SHOWN);
  const eveId = await signedIn(E);
  const su = await app.hearth.superuser();
  const [fay] = await app.hearth.signUpMany('Fay', 1);
  const crag = await app.hearth.createGroup(fay, 'Crag');
  const base = await app.hearth.createGroup(fay, 'Base');
  const inCrag = await su.collection('memberships').create({ group: crag.id, user: eveId, role: 'member' });
  await su.collection('memberships').create({ group: base.id, user: eveId, role: 'member' });
  await E.getByTestId('group-Base').waitFor(SHOWN);

  // Every create that reaches the server, by collection (an attempt while
  // offline fails in the browser and is not counted), and the server's
  // answers to the events ones.
  const sent = { events: 0, messages: 0 };
  const answers = [];
  eve.context.on('response', async (r) => {
    const m = r.request().method() === 'POST' && r.url().startsWith(app.hearth.url) && r.url().match(/\/api\/collections\/(events|messages)\/records/);
    if (!m) return;
    sent[m[1]]++;
    if (m[1] === 'events') answers.push({ status: r.status(), body: await r.json() });
  });

  // Offline, Eve posts in Base, then adds an event to Crag: both pending.
  await eve.context.setOffline(true);
  await E.getByTestId('group-Base').click();
  await E.getByTestId('offline-banner').waitFor(SHOWN);
  await E.getByTestId('message-input').fill('Still here');
  await E.getByTestId('send').click();
  await E.getByTestId('message').filter({ hasText: 'Still here' }).getByTestId('pending').waitFor(SHOWN);
  await E.getByTestId('back').click();
  await E.getByTestId('group-Crag').click();
  await E.getByTestId('tab-events').click();
  await E.getByTestId('event-title').fill('Picnic');
  await E.getByTestId('create-event').click();
  const picnic = E.getByTestId('event-Picnic');
  await picnic.getByTestId('event-pending').waitFor(SHOWN);

  // Meanwhile Eve is removed from Crag.
  await su.collection('memberships').delete(inCrag.id);

  // The network returns: the queue sends the post (delivered) and the
  // event (refused); the refusal is shown in the server's words, and the
  // pending event leaves the list.
  await eve.context.setOffline(false);
  const shown = E.getByTestId('event-refused');
  await shown.waitFor(SHOWN);
  await until(() => answers.length === 1);
  const [{ status, body }] = answers;
  assert.equal(status, 400);
  assert.ok(body.data?.group?.message, `the refusal names the group field: ${JSON.stringify(body)}`);
  assert.equal(await shown.textContent(), `Event not saved: "Picnic": group: ${body.data.group.message}`);
  await picnic.waitFor({ state: 'detached', ...SHOWN });
  await shot(E, 'offline-6-refused');
  await until(() => sent.messages === 1);
  assert.deepEqual(sent, { events: 1, messages: 1 });
  assert.equal((await su.collection('messages').getFullList({ filter: `body = "Still here"` })).length, 1);
  assert.equal((await su.collection('events').getFullList({ filter: `title = "Picnic"` })).length, 0);

  // Reloaded (the queue reopened from the store) and a new post made: the
  // queue sends in order, so the refused event, were it still queued,
  // would go first. Only the post goes.
  await E.reload();
  await E.getByTestId('group-Base').click(SHOWN);
  await E.getByTestId('message-input').fill('Back at base');
  await E.getByTestId('send').click();
  await E.getByTestId('message').filter({ hasText: 'Back at base' }).getByTestId('pending').waitFor({ state: 'detached', ...SHOWN });
  // Playwright reports a response to the test a moment after the page has
  // it: wait for the post's, then no event went before it.
  await until(() => sent.messages === 2);
  assert.deepEqual(sent, { events: 1, messages: 2 });
  assert.equal((await su.collection('messages').getFullList({ filter: `body = "Back at base"` })).length, 1);
  assert.deepEqual(eve.errors, []);
  await eve.context.close();
});
