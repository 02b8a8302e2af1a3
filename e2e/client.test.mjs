// The client package (clients/js, built by `make client-js`) as a React
// Native app runs it: react-native-sse for realtime over rn-xhr.mjs (React
// Native's XMLHttpRequest semantics), a key-value storage for the session
// and the synced store, and a network that drops (netcut.mjs).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import EventSource from 'react-native-sse/src/EventSource.js';
import { XMLHttpRequest } from './rn-xhr.mjs';
import { PASSWORD, startHearth } from './harness.mjs';
import { relay } from './netcut.mjs';
import {
  AUTH_KEY, LiveSync, MemoryStorage, cancelRsvp, createClient, createInvite, findRsvp,
  joinByCode, rsvp, signIn, signOut, signUp, storeKey,
} from '../clients/js/dist/index.js';

globalThis.XMLHttpRequest = XMLHttpRequest;

let hearth;
let su;
const links = [];
before(async () => {
  hearth = await startHearth();
  su = await hearth.superuser();
});
const phones = [];
after(async () => {
  // A client still subscribed would reconnect forever once the server is gone.
  await Promise.all(phones.map((pb) => pb.realtime.unsubscribe().catch(() => undefined)));
  await Promise.all(links.map((l) => l.close()));
  await hearth?.stop();
});

const WAIT = 10_000;
let people = 0;

/** phone returns a client as the app makes it: the package's factory, react-native-sse, a storage. */
async function phone(url, storage = new MemoryStorage()) {
  const pb = await createClient(url, { storage, EventSource });
  phones.push(pb);
  return pb;
}

/** person signs up a new user through the package and returns the phone's client. */
async function person(name, opts = {}) {
  const pb = await phone(opts.url ?? hearth.url, opts.storage);
  const email = `${name.toLowerCase()}-${++people}@client.test`;
  await signUp(pb, { email, name, password: PASSWORD, passwordConfirm: PASSWORD });
  return pb;
}

async function offlineLink() {
  const link = await relay(hearth.url);
  links.push(link);
  return link;
}

/** failure awaits promise and returns its error's HTTP status (0: no answer). */
async function failure(promise) {
  try {
    await promise;
  } catch (err) {
    return err.status;
  }
  assert.fail('expected the request to fail');
}

const member = (group, pb) => su.collection('memberships').create({ group: group.id, user: pb.authStore.record.id, role: 'member' });
const soon = '2030-01-01 10:00:00.000Z';

test('the session is kept in the given storage and restored by the next client', async () => {
  const storage = new MemoryStorage();
  const ann = await person('Ann', { storage });
  const id = ann.authStore.record.id;
  assert.ok(storage.items.has(AUTH_KEY), 'the session is stored');

  const again = await phone(hearth.url, storage);
  assert.ok(again.authStore.isValid, 'the next start is signed in');
  assert.equal(again.authStore.record.id, id);
  const group = await again.collection('groups').create({ name: 'Restored' });
  assert.equal(group.created_by, id, 'requests carry the restored token');

  const stranger = await phone(hearth.url);
  assert.equal(stranger.authStore.isValid, false, 'another storage holds no session');
  assert.equal(await failure(signIn(stranger, ann.authStore.record.email, 'wrong-password')), 400);
  assert.equal(stranger.authStore.isValid, false);
});

test('realtime over react-native-sse comes back after the network drops', async () => {
  const link = await offlineLink();
  const ann = await person('Ann');
  const bob = await person('Bob', { url: link.url });
  const group = await ann.collection('groups').create({ name: 'Radio' });
  await member(group, bob);

  const seen = [];
  await bob.collection('messages').subscribe('*', (e) => seen.push(e.record.body));
  assert.ok(bob.realtime.eventSource instanceof EventSource, 'the stream is react-native-sse');
  await ann.collection('messages').create({ group: group.id, body: 'before' });
  await hearth.waitFor(() => seen.includes('before'), WAIT, 'first message');

  // The SDK hears of a broken stream only through eventSource.onerror,
  // which react-native-sse never calls: without the package's bridge the
  // SDK would not notice, nor reconnect.
  await link.cut();
  await hearth.waitFor(() => !bob.realtime.isConnected, WAIT, 'disconnect noticed by the SDK');
  await link.restore();
  await hearth.waitFor(() => bob.realtime.isConnected, WAIT, 'reconnect');
  // The SDK resubmits its subscriptions just after reconnecting: Ann posts
  // every half second until one message gets through.
  let posted = 0;
  let last = 0;
  await hearth.waitFor(async () => {
    if (Date.now() - last > 500) {
      last = Date.now();
      await ann.collection('messages').create({ group: group.id, body: `after ${++posted}` });
    }
    return seen.some((b) => b.startsWith('after'));
  }, WAIT, 'message after the network came back');
  await bob.realtime.unsubscribe();
});

test('LiveSync keeps a persistent store: shown offline, caught up when the network returns', async () => {
  const link = await offlineLink();
  const storage = new MemoryStorage();
  const ann = await person('Ann');
  const bob = await person('Bob', { url: link.url, storage });
  const group = await ann.collection('groups').create({ name: 'Hikers' });
  await member(group, bob);
  const first = await ann.collection('messages').create({ group: group.id, body: 'first' });

  const live = await LiveSync.open(bob, storage);
  await live.start();
  assert.equal(live.connection, 'online');
  assert.equal((await live.store.get('messages', first.id))?.body, 'first');
  assert.ok(storage.items.has(storeKey(bob.authStore.record.id)), 'the store is written to storage');

  const second = await ann.collection('messages').create({ group: group.id, body: 'second' });
  await hearth.waitFor(() => live.store.get('messages', second.id), WAIT, 'realtime message in the store');

  // The app is closed, the network goes, things change, the app starts offline.
  await live.stop();
  await link.cut();
  const third = await ann.collection('messages').create({ group: group.id, body: 'third' });
  await ann.collection('messages').delete(first.id);
  await ann.collection('groups').update(group.id, { name: 'Hikers & Bikers' });

  const restarted = await phone(link.url, storage);
  const offline = await LiveSync.open(restarted, storage);
  assert.deepEqual(offline.store.list('messages').map((m) => m.body).sort(), ['first', 'second'],
    'the stored records are there before any request');
  assert.equal(await failure(offline.start()), 0, 'the first start fails without a network');
  assert.equal(offline.connection, 'offline');

  await link.restore();
  await hearth.waitFor(async () => (await offline.store.get('messages', third.id)) !== undefined, WAIT, 'catch-up after the network returned');
  assert.equal(await offline.store.get('messages', first.id), undefined, 'a deletion made while offline is applied');
  assert.equal((await offline.store.get('groups', group.id)).name, 'Hikers & Bikers');
  await hearth.waitFor(() => offline.connection === 'online', WAIT, 'online state again');

  // Connected, the stream drops and comes back: what was posted in between
  // arrives by the sync that follows the reconnect.
  await link.cut();
  const fourth = await ann.collection('messages').create({ group: group.id, body: 'fourth' });
  await link.restore();
  await hearth.waitFor(async () => (await offline.store.get('messages', fourth.id)) !== undefined, WAIT, 'message posted while the stream was down');

  const listed = await ann.collection('messages').getFullList({ filter: ann.filter('group = {:g}', { g: group.id }) });
  assert.deepEqual(offline.store.list('messages').map((m) => m.id).sort(), listed.map((m) => m.id).sort());
  await offline.stop();
});

test('join by code: the invite the owner makes lets another person in, once', async () => {
  const ann = await person('Ann');
  const bob = await person('Bob');
  const group = await ann.collection('groups').create({ name: 'Choir' });
  const invite = await createInvite(ann, group.id, { max_uses: 5 });
  assert.match(invite.code, /^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{12}$/);

  const joined = await joinByCode(bob, ` ${invite.code.toLowerCase()} `);
  assert.equal(joined.role, 'member');
  assert.equal(joined.user, bob.authStore.record.id);
  assert.equal(joined.expand.group.name, 'Choir');
  const again = await joinByCode(bob, invite.code);
  assert.equal(again.id, joined.id, 'joining again answers the same membership');
  assert.equal((await ann.collection('invites').getOne(invite.id)).uses, 1);

  assert.equal(await failure(joinByCode(bob, 'ZZZZZZZZZZZZ')), 404);
  assert.equal(await failure(joinByCode(await phone(hearth.url), invite.code)), 401);
  const carol = await person('Carol');
  assert.equal(await failure(createInvite(carol, group.id)), 400, 'only owners and admins make invites');
});

test('rsvp: waitlisted when the event is full, going when a place frees', async () => {
  const ann = await person('Ann');
  const bob = await person('Bob');
  const eve = await person('Eve');
  const group = await ann.collection('groups').create({ name: 'Climbers' });
  await member(group, bob);
  const event = await ann.collection('events').create({ group: group.id, title: 'Crag day', starts_at: soon, capacity: 1 });

  assert.equal((await rsvp(ann, event.id, 'going')).status, 'going');
  const waiting = await rsvp(bob, event.id, 'going');
  assert.equal(waiting.status, 'waitlisted');
  const still = await rsvp(bob, event.id, 'going');
  assert.equal(still.id, waiting.id, 'one RSVP per person');
  assert.equal(still.waitlisted_at, waiting.waitlisted_at, 'asking again keeps the place in line');

  await rsvp(ann, event.id, 'declined');
  assert.equal((await findRsvp(bob, event.id)).status, 'going', 'the freed place went to the waitlist');
  assert.equal((await ann.collection('events').getOne(event.id)).going_count, 1);

  assert.equal(await cancelRsvp(bob, event.id), true);
  assert.equal(await findRsvp(bob, event.id), undefined);
  assert.equal(await cancelRsvp(bob, event.id), false);
  assert.equal(await failure(rsvp(eve, event.id, 'going')), 400, 'outsiders cannot RSVP');
  assert.equal((await su.collection('rsvps').getFullList({ filter: `event = "${event.id}"` })).length, 1);
});

test('rsvp from two devices of one person at once stores one RSVP', async () => {
  const ann = await person('Ann');
  const email = ann.authStore.record.email;
  const tablet = await phone(hearth.url);
  await signIn(tablet, email, PASSWORD);
  const group = await ann.collection('groups').create({ name: 'Two screens' });
  for (let i = 0; i < 5; i++) {
    const event = await ann.collection('events').create({ group: group.id, title: `Event ${i}`, starts_at: soon });
    const [a, b] = await Promise.all([rsvp(ann, event.id, 'going'), rsvp(tablet, event.id, 'maybe')]);
    assert.equal(a.id, b.id, 'both devices end on the same record');
    const stored = await su.collection('rsvps').getFullList({ filter: `event = "${event.id}"` });
    assert.equal(stored.length, 1);
  }
});

test('sign-out removes the session and the synced store from the device', async () => {
  const storage = new MemoryStorage();
  const ann = await person('Ann', { storage });
  await ann.collection('groups').create({ name: 'Private' });
  const live = await LiveSync.open(ann, storage);
  await live.start();
  const key = storeKey(ann.authStore.record.id);
  assert.ok(storage.items.has(key));
  assert.ok(live.store.list('groups').length > 0);

  assert.deepEqual(await signOut(ann, { live }), {});
  assert.equal(ann.authStore.isValid, false);
  assert.deepEqual([...storage.items.keys()], [], 'nothing of the user stays in storage');
  assert.deepEqual(live.store.list('groups'), []);
  assert.equal((await phone(hearth.url, storage)).authStore.isValid, false, 'the next start is signed out');
  await assert.rejects(LiveSync.open(ann, storage), /signed-in/);
});
