// Accounts and the access boundary: sign up, sign in, refresh, and what a
// signed-in user who is not a member of a group can neither see nor change.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PASSWORD, rejects, startHearth, userId } from './harness.mjs';

let hearth;
before(async () => { hearth = await startHearth(); });
after(() => hearth?.stop());

test('sign up, sign in, refresh', async () => {
  const pb = hearth.client();
  const created = await pb.collection('users').create({
    email: 'signup@crews.test', name: 'Sam', password: PASSWORD, passwordConfirm: PASSWORD,
  });
  assert.equal(created.name, 'Sam');
  assert.equal(pb.authStore.isValid, false, 'sign up alone does not sign in');

  const auth = await pb.collection('users').authWithPassword('signup@crews.test', PASSWORD);
  assert.equal(auth.record.id, created.id);
  assert.equal(auth.record.email, 'signup@crews.test', 'a user sees their own email');
  assert.ok(pb.authStore.isValid);
  const first = pb.authStore.token;

  const refreshed = await pb.collection('users').authRefresh();
  assert.equal(refreshed.record.id, created.id);
  assert.ok(pb.authStore.isValid);
  assert.equal(pb.authStore.token, refreshed.token);

  // The refreshed token works for a call that needs auth; a forged one does not.
  await pb.collection('users').getOne(created.id);
  pb.authStore.save(first.slice(0, -4) + 'AAAA', pb.authStore.record);
  await rejects(pb.collection('users').authRefresh(), 401);
});

test('wrong password and unknown user are refused alike', async () => {
  const pb = hearth.client();
  await pb.collection('users').create({ email: 'pw@crews.test', name: 'Pat', password: PASSWORD, passwordConfirm: PASSWORD });
  const wrong = await rejects(pb.collection('users').authWithPassword('pw@crews.test', 'not-the-password'), 400);
  const unknown = await rejects(pb.collection('users').authWithPassword('nobody@crews.test', PASSWORD), 400);
  assert.equal(wrong.response.message, unknown.response.message);
  assert.equal(pb.authStore.isValid, false);
});

describe('a non-member', () => {
  let owner, member, outsider, group, event, message, rsvp, membership;

  before(async () => {
    [owner, member, outsider] = await Promise.all(['Olive', 'Max', 'Otto'].map((n) => hearth.signUp(n)));
    group = await hearth.createGroup(owner, 'Private crew');
    membership = await hearth.addMember(group.id, member);
    event = await owner.collection('events').create({ group: group.id, title: 'Hike', starts_at: '2030-06-01 08:00:00.000Z' });
    message = await owner.collection('messages').create({ group: group.id, body: 'Boots on' });
    rsvp = await member.collection('rsvps').create({ event: event.id, status: 'going' });
  });

  test('sees none of the group in lists', async () => {
    for (const name of ['groups', 'events', 'messages', 'rsvps', 'memberships']) {
      const list = await outsider.collection(name).getList(1, 50);
      assert.equal(list.totalItems, 0, `${name} visible to an outsider`);
    }
    // A filter naming the group directly does not help.
    const events = await outsider.collection('events').getList(1, 50, { filter: `group = "${group.id}"` });
    assert.equal(events.totalItems, 0);
    // The member does see them (so the lists above could have been non-empty).
    assert.equal((await member.collection('events').getList(1, 50)).totalItems, 1);
    assert.equal((await member.collection('memberships').getList(1, 50)).totalItems, 2);
  });

  test('cannot view any record of the group', async () => {
    await rejects(outsider.collection('groups').getOne(group.id), 404);
    await rejects(outsider.collection('events').getOne(event.id), 404);
    await rejects(outsider.collection('messages').getOne(message.id), 404);
    await rejects(outsider.collection('rsvps').getOne(rsvp.id), 404);
    await rejects(outsider.collection('memberships').getOne(membership.id), 404);
  });

  test('cannot create in the group', async () => {
    await rejects(outsider.collection('events').create({ group: group.id, title: 'Crash', starts_at: '2030-06-01 08:00:00.000Z' }), 400);
    await rejects(outsider.collection('messages').create({ group: group.id, body: 'hi' }), 400);
    await rejects(outsider.collection('rsvps').create({ event: event.id, status: 'going' }), 400);
    await rejects(outsider.collection('memberships').create({ group: group.id, user: userId(outsider), role: 'owner' }), 403);
  });

  test('cannot change or delete anything of the group', async () => {
    await rejects(outsider.collection('groups').update(group.id, { name: 'Mine now' }), 404);
    await rejects(outsider.collection('events').update(event.id, { title: 'Cancelled' }), 404);
    await rejects(outsider.collection('messages').update(message.id, { body: 'edited' }), 404);
    await rejects(outsider.collection('rsvps').update(rsvp.id, { status: 'declined' }), 404);
    await rejects(outsider.collection('memberships').update(membership.id, { role: 'owner' }), 404);
    await rejects(outsider.collection('groups').delete(group.id), 404);
    await rejects(outsider.collection('events').delete(event.id), 404);
    await rejects(outsider.collection('messages').delete(message.id), 404);
    await rejects(outsider.collection('rsvps').delete(rsvp.id), 404);
    await rejects(outsider.collection('memberships').delete(membership.id), 404);

    // Nothing changed.
    assert.equal((await owner.collection('groups').getOne(group.id)).name, 'Private crew');
    assert.equal((await owner.collection('events').getOne(event.id)).title, 'Hike');
    assert.equal((await owner.collection('messages').getOne(message.id)).body, 'Boots on');
    assert.equal((await owner.collection('rsvps').getOne(rsvp.id)).status, 'going');
    assert.equal((await owner.collection('memberships').getOne(membership.id)).role, 'member');
  });

  test('anonymous callers see nothing either', async () => {
    const anon = hearth.client();
    for (const name of ['groups', 'events', 'messages', 'rsvps', 'memberships', 'invites']) {
      assert.equal((await anon.collection(name).getList(1, 50)).totalItems, 0, name);
    }
    await rejects(anon.collection('messages').create({ group: group.id, body: 'hi' }), 400);
  });
});
