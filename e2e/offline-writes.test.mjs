// The client package's write queue (clients/js/src/queue.ts) against the
// real server: writes made offline are stored, shown as pending, and sent
// once, in order, when the network returns; a lost answer makes no
// duplicate; a refusal is kept with the server's reason and not retried;
// a write the server keeps failing (5xx) is retried, then counts as refused.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventSource } from 'eventsource';
import { startHearth, userId } from './harness.mjs';
import { relay } from './netcut.mjs';
import { lossy } from './lossy.mjs';
import { makePNG } from './png.mjs';
import {
  MAX_ATTEMPTS, MemoryStorage, PersistentStore, WriteQueue, createClient, isPending, storeKey,
} from '../clients/js/dist/index.js';

globalThis.EventSource ??= EventSource;

let hearth;
let su;
const closers = [];
before(async () => {
  hearth = await startHearth();
  su = await hearth.superuser();
});
after(async () => {
  for (const close of closers.reverse()) await close();
  await hearth?.stop();
});

const WAIT = 10_000;
const RETRY = [50];

/** phone signs up name through url (a relay or proxy) with the package's client and a persistent store. */
async function phone(name, url) {
  const storage = new MemoryStorage();
  const pb = await createClient(url, { storage });
  const direct = await hearth.signUp(name);
  pb.authStore.save(direct.authStore.token, direct.authStore.record);
  const store = await PersistentStore.open(storage, storeKey(userId(pb)));
  return { pb, storage, store };
}

/** inbox subscribes pb to collections' realtime and collects every event. */
async function inbox(pb, collections) {
  const events = [];
  for (const c of collections) {
    await pb.collection(c).subscribe('*', (e) => events.push({ collection: c, action: e.action, record: e.record }));
  }
  closers.push(() => pb.realtime.unsubscribe());
  return events;
}

async function setting(link) {
  closers.push(() => link.close());
  return link;
}

test('writes made offline are shown pending, then sent once and in order when the network returns', async () => {
  const link = await setting(await relay(hearth.url));
  const ann = await phone('Ann', link.url);
  const bob = await hearth.signUp('Bob');
  const group = await hearth.createGroup(bob, 'Walkers');
  await hearth.addMember(group.id, ann.pb);
  const event = await bob.collection('events').create({ group: group.id, title: 'Ridge walk', starts_at: '2030-06-01 08:00:00.000Z' });
  const heard = await inbox(bob, ['messages', 'rsvps']);
  const queue = new WriteQueue(ann.pb, ann.store, { retryMs: RETRY });

  await link.cut();
  const ids = [];
  for (let i = 1; i <= 5; i++) {
    const files = i === 3 ? { attachments: [new File([makePNG(4, 4)], 'map.png', { type: 'image/png' })] } : {};
    ids.push(await queue.create('messages', { group: group.id, body: `message ${i}` }, files));
  }
  const rsvpId = await queue.rsvp(event.id, 'going');
  await queue.update('messages', ids[1], { body: 'message 2, edited' });

  // Shown at once, before the server has any of it.
  assert.equal(ann.store.writes().length, 7);
  const shown = ann.store.list('messages');
  assert.deepEqual(shown.map((m) => m.id).sort(), [...ids].sort());
  assert.ok(shown.every(isPending), 'every queued message is marked pending');
  assert.equal(ann.store.record('messages', ids[1]).body, 'message 2, edited');
  assert.deepEqual(ann.store.record('messages', ids[2]).attachments, ['map.png']);
  assert.equal(ann.store.record('rsvps', rsvpId).status, 'going');
  // The queue is in storage: a restarted app would send it.
  const reopened = await PersistentStore.open(ann.storage, storeKey(userId(ann.pb)));
  assert.deepEqual(reopened.writes().map((w) => [w.op, w.id]), ann.store.writes().map((w) => [w.op, w.id]));

  await queue.flush(); // offline: nothing sent, nothing lost
  assert.equal(ann.store.writes().length, 7);
  assert.equal((await su.collection('messages').getFullList({ filter: `group = "${group.id}"` })).length, 0);

  await link.restore();
  await hearth.waitFor(() => ann.store.writes().length === 0, WAIT, 'the queue sent');

  const stored = await su.collection('messages').getFullList({ filter: `group = "${group.id}"`, sort: 'created' });
  assert.deepEqual(stored.map((m) => m.id), ids, 'each message exactly once, with the id made on the phone, in order');
  assert.deepEqual(stored.map((m) => m.body), ['message 1', 'message 2, edited', 'message 3', 'message 4', 'message 5']);
  assert.ok(stored.every((m) => m.author === userId(ann.pb)));
  assert.equal(stored[2].attachments.length, 1);
  assert.match(stored[2].attachments[0], /^map_\w+\.png$/);
  const rsvps = await su.collection('rsvps').getFullList({ filter: `event = "${event.id}"` });
  assert.deepEqual(rsvps.map((r) => [r.id, r.user, r.status]), [[rsvpId, userId(ann.pb), 'going']]);
  assert.ok(ann.store.list('messages').every((m) => !isPending(m)), 'the server copies replaced the pending ones');
  assert.equal(ann.store.record('messages', ids[2]).attachments[0], stored[2].attachments[0]);

  // Bob, another member, heard each write once, in the order Ann made them.
  await hearth.waitFor(() => heard.length >= 7, WAIT, "Bob's realtime events");
  assert.deepEqual(
    heard.map((e) => [e.collection, e.action, e.record.id]),
    [...ids.map((id) => ['messages', 'create', id]), ['rsvps', 'create', rsvpId], ['messages', 'update', ids[1]]],
  );
});

test('the answer of the third write lost after the server applied it: sent again, no duplicate', async () => {
  const proxy = await setting(await lossy(hearth.url));
  const ann = await phone('Ana', proxy.url);
  const group = await hearth.createGroup(await hearth.signUp('Owner'), 'Sailors');
  await hearth.addMember(group.id, ann.pb);
  const event = await su.collection('events').create({ group: group.id, title: 'Regatta', starts_at: '2030-07-01 08:00:00.000Z', created_by: userId(ann.pb) });
  const queue = new WriteQueue(ann.pb, ann.store, { retryMs: RETRY });

  proxy.loseAnswerOf(3);
  proxy.loseAnswerOf(6);
  const ids = [];
  for (let i = 1; i <= 5; i++) {
    ids.push(await queue.create('messages', { group: group.id, body: `note ${i}` }));
  }
  const rsvpId = await queue.rsvp(event.id, 'maybe');
  await queue.update('messages', ids[0], { body: 'note 1, edited' });
  await hearth.waitFor(() => ann.store.writes().length === 0, WAIT, 'the queue sent');

  const stored = await su.collection('messages').getFullList({ filter: `group = "${group.id}"`, sort: 'created' });
  assert.deepEqual(stored.map((m) => m.id), ids, 'no duplicate of the create whose answer was lost');
  assert.deepEqual(stored.map((m) => m.body), ['note 1, edited', 'note 2', 'note 3', 'note 4', 'note 5']);
  const rsvps = await su.collection('rsvps').getFullList({ filter: `event = "${event.id}"` });
  assert.deepEqual(rsvps.map((r) => [r.id, r.status]), [[rsvpId, 'maybe']]);
  // The third create and the RSVP (the sixth write) were each sent twice.
  const creates = proxy.writes.filter((w) => w.method === 'POST');
  assert.equal(creates.length, 8);
  assert.deepEqual(ann.store.refusals(), [], 'a create found applied counts as done');
  assert.ok(!isPending(ann.store.record('messages', ids[2])));
});

test('a member removed while offline: the queued post is refused with the reason, shown, and never sent again', async () => {
  const proxy = await setting(await lossy(hearth.url));
  const link = await setting(await relay(proxy.url));
  const ann = await phone('Anya', link.url);
  const owner = await hearth.signUp('Keeper');
  const group = await hearth.createGroup(owner, 'Choir');
  const membership = await hearth.addMember(group.id, ann.pb);
  const refusedSeen = [];
  const queue = new WriteQueue(ann.pb, ann.store, { retryMs: RETRY, onRefused: (r) => refusedSeen.push(r) });

  await link.cut();
  const id = await queue.create('messages', { group: group.id, body: 'see you all tonight' });
  const after = await queue.create('groups', { name: 'My own choir' });
  assert.ok(isPending(ann.store.record('messages', id)));
  await su.collection('memberships').delete(membership.id);
  await link.restore();
  await hearth.waitFor(() => ann.store.writes().length === 0, WAIT, 'the queue sent');

  assert.equal(ann.store.record('messages', id), undefined, 'the refused message left the store');
  const [refused] = ann.store.refusals();
  assert.equal(refused.id, id);
  assert.equal(refused.op, 'create');
  assert.equal(refused.data.body, 'see you all tonight', 'the app can show what was refused');
  // The create rule's answer to a non-member, as the server words it.
  assert.equal(refused.status, 400);
  assert.equal(refused.message, 'Failed to create record: not allowed.');
  assert.equal(refused.errors.group.code, 'validation_not_allowed');
  assert.deepEqual(refusedSeen.map((r) => r.id), [id]);
  assert.ok(await su.collection('groups').getOne(after), 'the write queued after the refused one was sent');
  assert.equal((await su.collection('messages').getFullList({ filter: `group = "${group.id}"` })).length, 0);

  // Never retried: another flush sends nothing for it.
  const sent = proxy.writes.filter((w) => w.path.startsWith('/api/collections/messages/')).length;
  assert.equal(sent, 1);
  await queue.flush();
  assert.equal(proxy.writes.filter((w) => w.path.startsWith('/api/collections/messages/')).length, sent);
  // Kept across a restart until the app dismisses it.
  const reopened = await PersistentStore.open(ann.storage, storeKey(userId(ann.pb)));
  assert.deepEqual(reopened.refusals().map((r) => [r.id, r.status, r.message]), [[id, refused.status, refused.message]]);
  await ann.store.dismiss(refused.seq);
  assert.deepEqual(ann.store.refusals(), []);
});

test('a write answered 503 again and again: retried, then refused with the message after MAX_ATTEMPTS, and the writes after it go', async () => {
  const proxy = await setting(await lossy(hearth.url));
  const ann = await phone('Anouk', proxy.url);
  const group = await hearth.createGroup(await hearth.signUp('Host'), 'Rowers');
  await hearth.addMember(group.id, ann.pb);
  const queue = new WriteQueue(ann.pb, ann.store, { retryMs: RETRY });

  proxy.failWrites('/api/collections/messages/', 503);
  const id = await queue.create('messages', { group: group.id, body: 'anyone rowing today?' });
  const next = await queue.create('groups', { name: 'Scullers' });
  await hearth.waitFor(() => ann.store.writes().length === 0, WAIT, 'the queue sent');

  // Each answer but the last was retried; the last made it a refusal.
  const tries = () => proxy.writes.filter((w) => w.path.startsWith('/api/collections/messages/')).length;
  assert.equal(tries(), MAX_ATTEMPTS);
  assert.deepEqual(ann.store.refusals().map((r) => [r.id, r.op, r.status, r.message, r.data.body]), [
    [id, 'create', 503, 'The proxy answers 503 for /api/collections/messages/.', 'anyone rowing today?'],
  ]);
  assert.equal(ann.store.record('messages', id), undefined, 'the refused message left the store');
  assert.equal((await su.collection('groups').getOne(next)).name, 'Scullers', 'the write queued after it was sent');
  assert.ok(!isPending(ann.store.record('groups', next)));

  // Never sent again.
  await queue.flush();
  assert.equal(tries(), MAX_ATTEMPTS);
});
