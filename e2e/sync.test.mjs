// Offline sync through the reference client (clients/js, built by `make
// client-js`) against the real binary: a phone that was offline catches up
// in one sync to exactly what the list API returns to it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventSource } from 'eventsource';
import { startHearth } from './harness.mjs';
import { assertMatchesListAPI } from './sync-helpers.mjs';
import { MemoryStore, SyncClient } from '../clients/js/dist/sync.js';

globalThis.EventSource ??= EventSource;

let hearth;
before(async () => { hearth = await startHearth(); });
after(() => hearth?.stop());

const soon = '2030-01-01 10:00:00.000Z';
const idOf = (pb) => pb.authStore.record.id;

async function addMember(su, group, user) {
  return su.collection('memberships').create({ group, user, role: 'member' });
}

test('a client that was offline catches up exactly in one sync', async () => {
  const su = await hearth.superuser();
  const ann = await hearth.signUp('Ann');
  const ben = await hearth.signUp('Ben');
  const cat = await hearth.signUp('Cat');
  const dan = await hearth.signUp('Dan');

  const hikers = await ben.collection('groups').create({ name: 'Hikers' });
  const readers = await cat.collection('groups').create({ name: 'Readers' });
  const secret = await dan.collection('groups').create({ name: 'Secret' });
  const annInReaders = await addMember(su, readers.id, idOf(ann));
  await addMember(su, hikers.id, idOf(ann));
  await addMember(su, hikers.id, idOf(cat));

  const hike = await ben.collection('events').create({ group: hikers.id, title: 'Hike', starts_at: soon });
  const picnic = await ben.collection('events').create({ group: hikers.id, title: 'Picnic', starts_at: soon });
  const club = await cat.collection('events').create({ group: readers.id, title: 'Book club', starts_at: soon });
  await ann.collection('rsvps').create({ event: club.id, status: 'going' });
  await ann.collection('rsvps').create({ event: hike.id, status: 'maybe' });
  const annInReadersMsg = await ann.collection('messages').create({ group: readers.id, body: 'I will bring tea' });
  await ann.collection('messages').create({ group: hikers.id, body: 'Boots ready' });
  const benMsg = await ben.collection('messages').create({ group: hikers.id, body: 'Meet at 8' });
  const catMsg = await cat.collection('messages').create({ group: readers.id, body: 'Chapter 3' });
  await dan.collection('messages').create({ group: secret.id, body: 'nobody else sees this' });

  const store = new MemoryStore();
  const client = new SyncClient(ann, store, { limit: 7 });
  const first = await client.sync();
  assert.ok(first.pages > 1, 'the initial sync pages');
  await assertMatchesListAPI(ann, store);

  // Ann is offline. The others create, edit and delete events and
  // messages, and Cat removes Ann from Readers.
  await ben.collection('events').create({ group: hikers.id, title: 'Night walk', starts_at: soon });
  await ben.collection('events').update(hike.id, { title: 'Hike (moved to 9)' });
  await ben.collection('events').delete(picnic.id);
  await ben.collection('messages').update(benMsg.id, { body: 'Meet at 9' });
  await ben.collection('messages').create({ group: hikers.id, body: 'Bring water' });
  await cat.collection('messages').create({ group: readers.id, body: 'Chapter 4' });
  await cat.collection('messages').update(catMsg.id, { body: 'Chapter 3, again' });
  await cat.collection('messages').delete(annInReadersMsg.id);
  await cat.collection('memberships').delete(annInReaders.id);
  await cat.collection('events').update(club.id, { title: 'Book club (online)' });
  await dan.collection('messages').create({ group: secret.id, body: 'still secret' });

  const before = await store.cursor();
  const caughtUp = await client.sync();
  assert.equal(caughtUp.resynced, false);
  assert.notEqual(await store.cursor(), before, 'the cursor moved on');
  await assertMatchesListAPI(ann, store);

  // Spelled out: nothing of Readers is left, Hikers is current.
  for (const name of ['events', 'messages', 'memberships']) {
    assert.ok(store.list(name).every((r) => r.group !== readers.id && r.group !== secret.id), `${name} of Readers or Secret left`);
  }
  assert.ok(!store.list('rsvps').some((r) => r.event === club.id), 'RSVP to a Readers event left');
  assert.deepEqual(store.list('groups').map((g) => g.id), [hikers.id]);
  assert.equal((await store.get('events', hike.id)).title, 'Hike (moved to 9)');
  assert.equal(await store.get('events', picnic.id), undefined);
  assert.ok(!store.list('users').some((u) => u.id === idOf(dan)), 'Dan shares no group with Ann');
});

test('realtime keeps a started client current, and sync follows', async () => {
  const su = await hearth.superuser();
  const eve = await hearth.signUp('Eve');
  const fay = await hearth.signUp('Fay');
  const knitters = await fay.collection('groups').create({ name: 'Knitters' });
  await addMember(su, knitters.id, idOf(eve));

  const store = new MemoryStore();
  const client = new SyncClient(eve, store, { debounceMs: 20 });
  try {
    await client.start();
    await assertMatchesListAPI(eve, store);

    const msg = await fay.collection('messages').create({ group: knitters.id, body: 'Wool is in' });
    await eventually(async () => (await store.get('messages', msg.id))?.body === 'Wool is in');
    await fay.collection('messages').delete(msg.id);
    await eventually(async () => (await store.get('messages', msg.id)) === undefined);
    await client.sync();
    await assertMatchesListAPI(eve, store);
  } finally {
    await client.stop();
  }
});

test('a cursor the server cannot serve (410) makes the client resync from 0', async () => {
  const gus = await hearth.signUp('Gus');
  await gus.collection('groups').create({ name: 'Solo' });
  const store = new MemoryStore();
  // A cursor far ahead of the log, as after a server restore.
  await store.applyPage([{ seq: 1, op: 'upsert', collection: 'groups', id: 'stale0000000001', record: { id: 'stale0000000001' } }], 1e12);
  const result = await new SyncClient(gus, store).sync();
  assert.equal(result.resynced, true);
  await assertMatchesListAPI(gus, store);

  const res = await fetch(`${hearth.url}/api/sync?cursor=abc`, { headers: { Authorization: gus.authStore.token } });
  assert.equal(res.status, 400);
  assert.ok((await res.json()).data.cursor, '400 names the cursor');
});

async function eventually(check, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
