// Sessions on a phone, through the client package against the real binary
// and SDK: a token is refreshed at start and on resume (keepSession), the
// resumed app gets realtime again, a session the server refuses ends in a
// clean sign-out, and one it cannot reach is kept. React Native's AppState
// cannot run here: appState() stands in for it with the same
// addEventListener('change') shape.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { getTokenPayload } from 'pocketbase';
import EventSource from 'react-native-sse/src/EventSource.js';
import { XMLHttpRequest } from './rn-xhr.mjs';
import { PASSWORD, freePort, startHearth } from './harness.mjs';
import {
  AUTH_KEY, LiveSync, MemoryStorage, createClient, fieldErrors, keepSession, refreshSession, signUp, storeKey,
} from '../clients/js/dist/index.js';
import { HearthSession } from '../clients/js/dist/react.js';

globalThis.XMLHttpRequest = XMLHttpRequest;

let hearth;
let su;
const phones = [];
before(async () => {
  hearth = await startHearth();
  su = await hearth.superuser();
});
after(async () => {
  await Promise.all(phones.map((pb) => pb.realtime.unsubscribe().catch(() => undefined)));
  await hearth?.stop();
});

const WAIT = 10_000;
let people = 0;

async function phone(url, storage = new MemoryStorage()) {
  const pb = await createClient(url, { storage, EventSource });
  phones.push(pb);
  return pb;
}

async function person(name, storage = new MemoryStorage()) {
  const pb = await phone(hearth.url, storage);
  const email = `${name.toLowerCase()}-${++people}@session.test`;
  await signUp(pb, { email, name, password: PASSWORD, passwordConfirm: PASSWORD });
  return pb;
}

/** appState is React Native's AppState as far as keepSession uses it; go(state) changes it. */
function appState() {
  const listeners = new Set();
  return {
    addEventListener(type, listener) {
      assert.equal(type, 'change');
      listeners.add(listener);
      return { remove: () => listeners.delete(listener) };
    },
    go(state) {
      for (const l of listeners) l(state);
    },
  };
}

/** sessions records what each start and resume of keepSession found. */
function sessions() {
  const seen = [];
  return { seen, onSession: (s) => seen.push(s), count: (n) => hearth.waitFor(() => seen.length >= n, WAIT, `${n} session checks`) };
}

const secondsLeft = (token) => getTokenPayload(token).exp - Date.now() / 1000;

test('a token near its expiry is refreshed at start, and the new one is stored', async () => {
  const users = await su.collections.getOne('users');
  const duration = users.authToken.duration;
  // Tokens issued now last a minute: the token signed in with is near its end.
  await su.collections.update('users', { authToken: { ...users.authToken, duration: 60 } });
  const storage = new MemoryStorage();
  let ann;
  try {
    ann = await person('Ann', storage);
  } finally {
    await su.collections.update('users', { authToken: { ...users.authToken, duration } });
  }
  const old = ann.authStore.token;
  assert.ok(secondsLeft(old) <= 60, 'the first token is short-lived');

  const check = sessions();
  const kept = keepSession(ann, { appState: appState(), onSession: check.onSession });
  await check.count(1);
  kept.remove();
  assert.deepEqual(check.seen, ['refreshed']);
  assert.notEqual(ann.authStore.token, old);
  assert.ok(secondsLeft(ann.authStore.token) > duration - 600, 'the new token lasts the configured duration');
  assert.equal(JSON.parse(storage.items.get(AUTH_KEY)).token, ann.authStore.token, 'the new token is what the next start restores');
  const again = await phone(hearth.url, storage);
  assert.equal((await again.collection('users').getOne(again.authStore.record.id)).name, 'Ann', 'the stored token works');
});

test('after the app was in the background, realtime delivers again', async () => {
  const ann = await person('Ann');
  const bob = await person('Bob');
  const group = await ann.collection('groups').create({ name: 'Sleepers' });
  await su.collection('memberships').create({ group: group.id, user: bob.authStore.record.id, role: 'member' });
  const live = await LiveSync.open(bob, new MemoryStorage());
  const state = appState();
  const check = sessions();
  const kept = keepSession(bob, { appState: state, live, onSession: check.onSession });
  await check.count(1);
  const post = (body) => ann.collection('messages').create({ group: group.id, body });
  const first = await post('before the phone sleeps');
  await hearth.waitFor(() => live.store.get('messages', first.id), WAIT, 'realtime before');

  state.go('background');
  await hearth.waitFor(() => !bob.realtime.isConnected, WAIT, 'realtime closed in the background');
  const asleep = await post('while the phone sleeps');

  state.go('active');
  await check.count(2);
  assert.deepEqual(check.seen, ['refreshed', 'refreshed']);
  assert.ok(bob.realtime.isConnected, 'realtime is open again');
  assert.equal((await live.store.get('messages', asleep.id))?.body, 'while the phone sleeps', 'the resume synced what was missed');
  // Nothing but realtime brings a message now: LiveSync syncs only when
  // a stream (re)connects.
  const awake = await post('after the phone woke');
  await hearth.waitFor(() => live.store.get('messages', awake.id), WAIT, 'realtime after the resume');
  kept.remove();
  await live.stop();
});

test('a session revoked elsewhere (password changed) ends in a clean sign-out on resume', async () => {
  const storage = new MemoryStorage();
  const ann = await person('Ann', storage);
  const { id, email } = ann.authStore.record;
  const live = await LiveSync.open(ann, storage);
  const state = appState();
  const check = sessions();
  const kept = keepSession(ann, { appState: state, live, onSession: check.onSession });
  await check.count(1);
  assert.ok(storage.items.has(storeKey(id)), 'the synced store is on the device');

  const laptop = hearth.client();
  await laptop.collection('users').authWithPassword(email, PASSWORD);
  await laptop.collection('users').update(id, { oldPassword: PASSWORD, password: 'another-password-1', passwordConfirm: 'another-password-1' });

  state.go('active');
  await check.count(2);
  kept.remove();
  assert.deepEqual(check.seen, ['refreshed', 'signed-out']);
  assert.equal(ann.authStore.token, '', 'the session is cleared');
  assert.equal(storage.items.has(AUTH_KEY), false, 'no session left in storage');
  assert.equal(storage.items.has(storeKey(id)), false, 'no synced store left on the device');
  assert.equal(ann.realtime.isConnected, false, 'realtime is closed');
});

test('a server that cannot be reached keeps the session', async () => {
  const storage = new MemoryStorage();
  const ann = await person('Ann', storage);
  const token = ann.authStore.token;
  const away = await phone(`http://127.0.0.1:${await freePort()}`, storage);
  assert.equal(await refreshSession(away), 'unreachable');
  assert.equal(away.authStore.token, token, 'still signed in');
  assert.ok(storage.items.has(AUTH_KEY));
});

test('HearthSession: sign-in opens the store and refreshes, a refusal shows no user', async () => {
  const storage = new MemoryStorage();
  const ann = await person('Ann', storage);
  const { email } = ann.authStore.record;
  const pb = await phone(hearth.url, new MemoryStorage());
  const state = appState();
  const check = sessions();
  const session = new HearthSession(pb, { storage, appState: state, onSession: check.onSession });
  let told = 0;
  session.subscribe(() => told++);
  await session.start();
  assert.equal(session.getSnapshot().user, null, 'no stored session: no user');

  await session.signIn(email, PASSWORD);
  await check.count(1);
  const snap = session.getSnapshot();
  assert.equal(snap.user?.email, email);
  assert.ok(snap.live, 'the user\'s store is open');
  assert.ok(told > 0, 'subscribers were told');

  // Signed out elsewhere: the token is deleted with the account's password change.
  await ann.collection('users').update(ann.authStore.record.id, { oldPassword: PASSWORD, password: 'another-password-2', passwordConfirm: 'another-password-2' });
  state.go('active');
  await check.count(2);
  assert.equal(check.seen[1], 'signed-out');
  assert.equal(session.getSnapshot().user, null);
  assert.equal(session.getSnapshot().live, null);
});

test('fieldErrors: each refused field with the server\'s own message', async () => {
  const pb = await phone(hearth.url);
  const taken = await person('Ann');
  let err;
  try {
    await signUp(pb, { email: taken.authStore.record.email, name: 'Ann', password: 'short', passwordConfirm: 'short' });
  } catch (e) {
    err = e;
  }
  assert.equal(err?.status, 400);
  const fields = fieldErrors(err);
  assert.equal(fields.password, err.response.data.password.message);
  assert.match(fields.password, /\S/, 'the message says something');
  assert.equal(fieldErrors(new Error('no answer')).password, undefined);
  assert.deepEqual(Object.keys(fieldErrors({ status: 0, response: {} })), []);
  console.log('fieldErrors of a sign-up:', JSON.stringify(fields));
});
