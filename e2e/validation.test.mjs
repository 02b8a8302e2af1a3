// Bad input through the SDK: every refusal is a ClientResponseError with
// status 400 whose response.data names the field (413 for a body larger
// than the schema allows), and nothing is stored; a batch gets the same.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PASSWORD, rejects, startHearth } from './harness.mjs';

let hearth, alice, group, event;
before(async () => {
  hearth = await startHearth();
  alice = await hearth.signUp('Alice');
  group = await hearth.createGroup(alice, 'Climbers');
  event = await alice.collection('events').create({ group: group.id, title: 'Crag day', starts_at: '2030-05-01 08:00:00.000Z' });
});
after(() => hearth?.stop());

/** refused asserts a 400 whose data names exactly the given fields (and codes, where given). */
async function refused(promise, fields) {
  const err = await rejects(promise, 400);
  assert.deepEqual(Object.keys(err.response.data).sort(), Object.keys(fields).sort(), JSON.stringify(err.response));
  for (const [field, code] of Object.entries(fields)) {
    assert.equal(typeof err.response.data[field].message, 'string');
    if (code) assert.equal(err.response.data[field].code, code, field);
  }
  return err;
}

test('sign-up errors name the field', async () => {
  const users = hearth.client().collection('users');
  await refused(users.create({ email: 'not-an-email', name: 'X', password: PASSWORD, passwordConfirm: PASSWORD }), { email: 'validation_is_email' });
  await refused(users.create({ email: 'x@crews.test', name: 'X', password: PASSWORD, passwordConfirm: 'other-password' }), { passwordConfirm: 'validation_values_mismatch' });
  await refused(users.create({ email: 'x@crews.test', password: PASSWORD, passwordConfirm: PASSWORD }), { name: 'validation_required' });
  await rejects(hearth.client().collection('users').authWithPassword('x@crews.test', PASSWORD), 400);
});

test('schema limits name the field and store nothing', async () => {
  await refused(alice.collection('groups').create({ name: '' }), { name: 'validation_required' });
  await refused(alice.collection('groups').create({ name: 'x'.repeat(81) }), { name: 'validation_max_text_constraint' });
  await refused(alice.collection('events').create({ group: group.id, title: 'Late', starts_at: 'next tuesday' }), { starts_at: null });
  await refused(alice.collection('events').create({ group: group.id, title: 'Big', starts_at: '2030-05-01 08:00:00.000Z', capacity: -1 }), { capacity: null });
  await refused(alice.collection('events').create({ group: group.id, title: 'Half', starts_at: '2030-05-01 08:00:00.000Z', capacity: 2.5 }), { capacity: null });
  await refused(alice.collection('rsvps').create({ event: event.id, status: 'probably' }), { status: 'validation_invalid_value' });
  await refused(alice.collection('messages').create({ group: group.id, body: 'x'.repeat(4001) }), { body: 'validation_max_text_constraint' });

  assert.equal((await alice.collection('groups').getList(1, 10)).totalItems, 1);
  assert.equal((await alice.collection('events').getList(1, 10)).totalItems, 1);
  assert.equal((await alice.collection('rsvps').getList(1, 10)).totalItems, 0);
  assert.equal((await alice.collection('messages').getList(1, 10)).totalItems, 0);
});

test('server-managed fields sent by a client are refused, naming each', async () => {
  const me = alice.authStore.record.id;
  const code = 'validation_server_managed';
  await refused(alice.collection('groups').create({ name: 'Mine', created_by: me }), { created_by: code });
  await refused(alice.collection('events').create({ group: group.id, title: 'Full', starts_at: '2030-05-01 08:00:00.000Z', going_count: 3 }), { going_count: code });
  await refused(alice.collection('events').update(event.id, { going_count: 9 }), { going_count: code });
  await refused(alice.collection('invites').create({ group: group.id, code: 'ABCDEFGHJKMN', uses: 0 }), { code, uses: code });
  await refused(alice.collection('messages').create({ group: group.id, body: 'hi', author: me }), { author: code });

  assert.equal((await alice.collection('events').getOne(event.id)).going_count, 0);
  assert.equal((await alice.collection('invites').getList(1, 10)).totalItems, 0);
});

test('a record moved to another group is refused, naming the field', async () => {
  const other = await hearth.createGroup(alice, 'Other');
  await refused(alice.collection('events').update(event.id, { group: other.id }), { group: 'validation_server_managed' });
  assert.equal((await alice.collection('events').getOne(event.id)).group, group.id);
});

test('a body larger than the schema allows is a 413, and nothing is stored', async () => {
  const err = await rejects(alice.collection('messages').create({ group: group.id, body: 'x'.repeat(10 << 20) }), 413);
  assert.match(err.response.message, /messages may have at most \d+ bytes/);
  // With files the body may hold them (4 x 10 MB), but its other fields
  // stay bounded by the JSON limit: the 10 MB text is a 413 as well.
  const file = new File([new Uint8Array(64)], 'notes.bin');
  const withFile = await rejects(alice.collection('messages').create({ group: group.id, body: 'x'.repeat(10 << 20), attachments: [file] }), 413);
  assert.match(withFile.response.message, /besides its files may have at most \d+ bytes/);
  assert.equal((await alice.collection('messages').getList(1, 10)).totalItems, 0);
});

test('a batch request gets the records API checks and answer', async () => {
  const root = await hearth.superuser();
  await root.settings.update({ batch: { enabled: true, maxRequests: 10 } });
  const me = alice.authStore.record.id;
  const direct = await refused(alice.collection('messages').create({ group: group.id, body: 'hi', '+author': me }), { author: 'validation_server_managed' });

  const batch = alice.createBatch();
  batch.collection('messages').create({ group: group.id, body: 'a fine message' });
  batch.collection('messages').create({ group: group.id, body: 'hi', '+author': me });
  const err = await rejects(batch.send(), 400);
  assert.equal(err.response.data.requests['1'].code, 'batch_request_failed');
  assert.deepEqual(err.response.data.requests['1'].response, direct.response);
  assert.equal((await alice.collection('messages').getList(1, 10)).totalItems, 0);
});
