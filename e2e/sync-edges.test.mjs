// The sharp edges of offline sync (issue 12), through the reference client
// and raw requests against the real binary: a cursor of one collection set
// is refused for another; a removed member never hears of a record created
// after the removal, while others keep writing; the documented answers to
// the parameters.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHearth } from './harness.mjs';
import { MemoryStore, SyncClient } from '../clients/js/dist/sync.js';
import { RecordingStore, assertMatchesListAPI } from './sync-helpers.mjs';

let hearth;
before(async () => { hearth = await startHearth(); });
after(() => hearth?.stop());

const soon = '2030-01-01 10:00:00.000Z';
const idOf = (pb) => pb.authStore.record.id;

function rawSync(pb, query) {
  return fetch(`${hearth.url}/api/sync?${query}`, { headers: { Authorization: pb.authStore.token } });
}

test('a filtered cursor is refused for another collection set, and the client rebuilds from 0', async () => {
  const [ann, ben, cy] = await hearth.signUpMany('Probe', 3);
  const hikers = await ben.collection('groups').create({ name: 'Hikers' });
  await hearth.addMember(hikers.id, ann);
  const hike = await ben.collection('events').create({ group: hikers.id, title: 'Hike', starts_at: soon });
  await ben.collection('messages').create({ group: hikers.id, body: 'Boots' });

  const store = new MemoryStore();
  await new SyncClient(ann, store, { collections: ['events'], limit: 2 }).sync();
  assert.deepEqual(store.list('events').map((e) => e.id), [hike.id]);

  // The world moves on in every collection.
  await hearth.addMember(hikers.id, cy);
  await ben.collection('messages').create({ group: hikers.id, body: 'Water' });
  await ben.collection('groups').update(hikers.id, { name: 'Hikers club' });
  await ann.collection('rsvps').create({ event: hike.id, status: 'going' });
  await ben.collection('events').create({ group: hikers.id, title: 'Night walk', starts_at: soon });

  const cursor = await store.cursor();
  for (const query of [`cursor=${encodeURIComponent(cursor)}`, `cursor=${encodeURIComponent(cursor)}&collections=events,messages`]) {
    const res = await rawSync(ann, query);
    const body = await res.json();
    assert.equal(res.status, 400, query);
    assert.equal(body.data.collections.code, 'sync_cursor_collections');
    assert.match(body.data.collections.message, /issued for collections=events/);
  }
  // The same set, spelled otherwise, continues.
  assert.equal((await rawSync(ann, `cursor=${encodeURIComponent(cursor)}&collections=events,events`)).status, 200);

  // The reference client, now for every collection on the same store,
  // is refused, clears the store and syncs from 0: it converges.
  const result = await new SyncClient(ann, store, { limit: 3 }).sync();
  assert.equal(result.resynced, true);
  await assertMatchesListAPI(ann, store);
});

test('a removed member never learns the id of a record created after the removal', async () => {
  const [cat, dan, eve] = await hearth.signUpMany('Removal', 3);
  const crew = await cat.collection('groups').create({ name: 'Crew' });
  const dansMembership = await hearth.addMember(crew.id, dan);
  await hearth.addMember(crew.id, eve);
  await cat.collection('messages').create({ group: crew.id, body: 'welcome' });

  const store = new RecordingStore();
  const client = new SyncClient(dan, store, { limit: 3 });
  await client.sync();

  // Cat and Eve post while Dan syncs page by page; Cat removes Dan
  // halfway. A record whose create was sent after the removal had
  // answered is certainly created after it.
  let removed = false;
  const afterRemoval = new Set();
  let writes = 0;
  const writer = async (pb) => {
    for (let i = 0; i < 30; i++) {
      const startedAfter = removed;
      const record = i % 5 === 0
        ? await pb.collection('events').create({ group: crew.id, title: `e${i}`, starts_at: soon }, { requestKey: null })
        : await pb.collection('messages').create({ group: crew.id, body: `m${i}` }, { requestKey: null });
      if (startedAfter) afterRemoval.add(record.id);
      if (++writes === 30) {
        await cat.collection('memberships').delete(dansMembership.id, { requestKey: null });
        removed = true;
      }
    }
  };
  let writing = true;
  const syncing = (async () => {
    while (writing) await client.sync();
  })();
  await Promise.all([writer(cat), writer(eve)]);
  writing = false;
  await syncing;
  await client.sync();

  assert.ok(afterRemoval.size > 0, 'no record was created after the removal: the test proves nothing');
  const told = store.seen.filter((c) => afterRemoval.has(c.id));
  assert.deepEqual(told, [], 'Dan was told of records created after his removal');
  assert.ok(store.seen.some((c) => c.op === 'revoke'), 'Dan was told to drop nothing');
  await assertMatchesListAPI(dan, store);
  assert.deepEqual(store.list('users').map((u) => u.id), [idOf(dan)]);
  assert.deepEqual(store.list('groups'), []);
});

// The answers a client can provoke without the server's internals; those
// that need them (a cursor past the last entry or below the horizon, one
// of another format version) are in changefeed/params_test.go.
test('the parameter answers of docs/sync.md', async () => {
  const [fay] = await hearth.signUpMany('Params', 1);
  await fay.collection('groups').create({ name: 'Solo' });
  const first = await (await rawSync(fay, 'cursor=0&limit=1')).json();
  assert.equal(typeof first.cursor, 'string', 'the cursor is a string');
  const c = encodeURIComponent(first.cursor);

  const cases = [
    ['', 400, { cursor: 'validation_required' }],
    ['cursor=', 400, { cursor: 'validation_required' }],
    ['cursor=-1', 400, { cursor: 'validation_invalid_cursor' }],
    ['cursor=abc', 400, { cursor: 'validation_invalid_cursor' }],
    ['cursor=0', 200],
    ['cursor=7', 410, { cursor: 'sync_cursor_gone' }],
    ['cursor=99999999999999999999999', 410, { cursor: 'sync_cursor_gone' }],
    [`cursor=${c}&limit=1`, 200],
    [`cursor=${c}&collections=events`, 400, { collections: 'sync_cursor_collections' }],
    ['cursor=0&collections=', 400, { collections: 'validation_unknown_collection' }],
    ['cursor=0&collections=invites', 400, { collections: 'validation_unknown_collection' }],
    ['cursor=0&collections=events,,messages', 400, { collections: 'validation_unknown_collection' }],
    ['cursor=0&collections=events,events', 200],
    ['cursor=0&limit=', 400, { limit: 'validation_invalid_limit' }],
    ['cursor=0&limit=0', 400, { limit: 'validation_invalid_limit' }],
    ['cursor=0&limit=1001', 400, { limit: 'validation_invalid_limit' }],
    ['cursor=0&limit=ten', 400, { limit: 'validation_invalid_limit' }],
    ['cursor=0&limit=1000', 200],
    ['cursor=abc&collections=nope&limit=0', 400, { cursor: 'validation_invalid_cursor', collections: 'validation_unknown_collection', limit: 'validation_invalid_limit' }],
  ];
  for (const [query, status, codes] of cases) {
    const res = await rawSync(fay, query);
    const body = await res.json();
    assert.equal(res.status, status, `?${query}: ${JSON.stringify(body)}`);
    if (codes) {
      const got = Object.fromEntries(Object.entries(body.data).map(([k, v]) => [k, v.code]));
      assert.deepEqual(got, codes, `?${query}`);
    } else {
      assert.ok(body.changes.length <= (Number(new URLSearchParams(query).get('limit')) || 200), `?${query}: page over its limit`);
    }
  }
  // Without a token: 401; a superuser: 403.
  assert.equal((await fetch(`${hearth.url}/api/sync?cursor=0`)).status, 401);
  const su = await hearth.superuser();
  assert.equal((await fetch(`${hearth.url}/api/sync?cursor=0`, { headers: { Authorization: su.authStore.token } })).status, 403);
});
