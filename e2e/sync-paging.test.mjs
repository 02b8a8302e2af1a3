// Sync pages are bounded by `limit`, even inside a join: a member who
// joins a group of 5,000 records by invite code syncs it with limit 100
// through the reference client (clients/js), which loses every 7th page
// (the store fails before storing it, as a phone killed mid-sync) and
// resumes from its stored cursor. Every record arrives exactly once, no
// page holds more than 100 changes, and the store ends equal to the list
// API; leaving the group pages its revocations the same way.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHearth } from './harness.mjs';
import { SyncClient } from '../clients/js/dist/sync.js';
import { RecordingStore, assertMatchesListAPI, syncThroughCrashes } from './sync-helpers.mjs';

let hearth;
before(async () => { hearth = await startHearth(); });
after(() => hearth?.stop());

const soon = '2030-01-01 10:00:00.000Z';

/** inBatches sends creates of collection in batches of 500 (one transaction each). */
async function inBatches(pb, collection, bodies) {
  for (let i = 0; i < bodies.length; i += 500) {
    const batch = pb.createBatch();
    for (const body of bodies.slice(i, i + 500)) batch.collection(collection).create(body);
    await batch.send({ requestKey: null });
  }
}

test('a join into a group of 5,000 records syncs in pages of at most limit, resumably, each record once', { timeout: 600_000 }, async () => {
  const su = await hearth.superuser();
  await su.settings.update({ batch: { enabled: true, maxRequests: 500, timeout: 120 } });
  const [owner, ...members] = await hearth.signUpMany('Big', 3);
  const [joiner] = await hearth.signUpMany('Joiner', 1);
  const group = await owner.collection('groups').create({ name: 'Big' });
  for (const m of members) await hearth.addMember(group.id, m);
  const people = [owner, ...members];

  // 1 group + 3 users + 3 memberships + 100 events + 300 RSVPs + 4,593 messages.
  const events = 100;
  await inBatches(owner, 'events', Array.from({ length: events }, (_, i) => ({ group: group.id, title: `Event ${i}`, starts_at: soon })));
  const eventIds = (await owner.collection('events').getFullList({ filter: `group = "${group.id}"`, requestKey: null })).map((e) => e.id);
  for (const pb of people) await inBatches(pb, 'rsvps', eventIds.map((event) => ({ event, status: 'going' })));
  const messages = 5000 - 1 - 3 - 3 - events - 3 * events;
  await Promise.all(people.map((pb, p) => inBatches(pb, 'messages',
    Array.from({ length: Math.ceil((messages - p) / 3) }, (_, i) => ({ group: group.id, body: `Message ${p}.${i}` })))));

  const store = new RecordingStore(7);
  const client = new SyncClient(joiner, store, { limit: 100 });
  await syncThroughCrashes(client);
  store.resetCounts();

  const invite = await owner.collection('invites').create({ group: group.id });
  await joiner.send('/api/crews/join', { method: 'POST', body: { code: invite.code } });
  const pagesBefore = store.pages;
  await syncThroughCrashes(client);

  const inGroup = 5000 + 1; // and the joiner's new membership
  assert.equal(store.delivered.size, inGroup, 'every record of the group, and the new membership, delivered');
  for (const [key, n] of store.delivered) assert.equal(n, 1, `${key} delivered ${n} times`);
  assert.ok(store.largestPage <= 100, `a page of ${store.largestPage} changes with limit 100`);
  assert.ok(store.pages - pagesBefore >= inGroup / 100, `${store.pages - pagesBefore} pages for ${inGroup} records`);
  assert.ok(store.crashes >= 7, `${store.crashes} lost pages`);
  assert.equal(store.lostPagesDiffer, 0, 'a page read again after a crash differs from the lost one');
  await assertMatchesListAPI(joiner, store);

  // Leaving pages the revocations the same way.
  store.resetCounts();
  const mine = await joiner.collection('memberships').getFirstListItem(`group = "${group.id}" && user = "${joiner.authStore.record.id}"`);
  await joiner.collection('memberships').delete(mine.id);
  await syncThroughCrashes(client);
  for (const [key, n] of store.delivered) assert.equal(n, 1, `${key} delivered ${n} times`);
  assert.ok(store.largestPage <= 100, `a page of ${store.largestPage} changes with limit 100`);
  assert.ok(store.seen.every((c) => c.op !== 'upsert'), 'leaving sent an upsert');
  assert.ok(store.delivered.size >= 5000, `${store.delivered.size} records dropped on leaving`);
  await assertMatchesListAPI(joiner, store);
});
