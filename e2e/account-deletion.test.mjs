// Deleting one's account as the app does it (pb.collection('users').delete),
// seen by another member's realtime stream: like any other change, the
// membership's end, the group's new owner and the message that stays
// without its author arrive; with ?messages=delete the messages go.
import { EventSource } from 'eventsource';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rejects, startHearth } from './harness.mjs';
import { subscribe } from './realtime.mjs';

globalThis.EventSource = EventSource;

let hearth;
before(async () => { hearth = await startHearth(); });
after(async () => { await hearth?.stop(); });

test('the last owner deletes her account: the admin owns the group, her message stays as a deleted account\'s', async () => {
  const [ann, ben] = await Promise.all([hearth.signUp('Ann'), hearth.signUp('Ben')]);
  const group = await hearth.createGroup(ann, 'Hikers');
  const benM = await hearth.addMember(group.id, ben, 'admin');
  const msg = await ann.collection('messages').create({ group: group.id, body: 'See you Sunday' });
  const annId = ann.authStore.record.id;
  const annM = (await ann.collection('memberships').getFullList({ filter: `user = "${annId}"` }))[0];
  const annToken = ann.authStore.token;
  const stream = await subscribe(ben, ['messages', 'memberships']);
  after(() => ben.realtime.unsubscribe());

  await ann.collection('users').delete(annId);
  // The SDK signs the phone out when it deletes its own user.
  assert.equal(ann.authStore.isValid, false);

  const gone = await stream.next('memberships', (e) => e.action === 'delete' && e.record.id === annM.id);
  assert.equal(gone.record.user, annId);
  const promoted = await stream.next('memberships', (e) => e.action === 'update' && e.record.id === benM.id);
  assert.equal(promoted.record.role, 'owner');
  const kept = await stream.next('messages', (e) => e.action === 'update' && e.record.id === msg.id);
  assert.equal(kept.record.author, '');
  assert.equal(kept.record.body, 'See you Sunday');
  // Her token is worth nothing with her account gone.
  ann.authStore.save(annToken, null);
  await rejects(ann.collection('users').authRefresh(), 401);
});

test('?messages=delete takes her messages along; a wrong value deletes nothing', async () => {
  const [cam, dee] = await Promise.all([hearth.signUp('Cam'), hearth.signUp('Dee')]);
  const group = await hearth.createGroup(dee, 'Readers');
  await hearth.addMember(group.id, cam);
  const msg = await cam.collection('messages').create({ group: group.id, body: 'Chapter 3 done' });
  const err = await rejects(cam.collection('users').delete(cam.authStore.record.id, { query: { messages: 'all' } }), 400);
  assert.equal(err.response.data.messages.code, 'validation_invalid_value');
  await dee.collection('messages').getOne(msg.id);

  const stream = await subscribe(dee, ['messages']);
  after(() => dee.realtime.unsubscribe());
  await cam.collection('users').delete(cam.authStore.record.id, { query: { messages: 'delete' } });
  await stream.next('messages', (e) => e.action === 'delete' && e.record.id === msg.id);
  await rejects(dee.collection('messages').getOne(msg.id), 404);
});
