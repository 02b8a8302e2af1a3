// Groups and joining by invite code: the creator is the owner; a second
// user joins with POST /api/crews/join {code} and then sees the group's
// events with their relations expanded. The join route's contract:
//   200 membership (role member) with expand.group; already a member: 200
//   with the existing membership, uses unchanged; unknown code 404; expired
//   400 data.code.code = "validation_invite_expired"; used up 400
//   data.code.code = "validation_invite_used_up"; anonymous 401.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rejects, startHearth, userId } from './harness.mjs';

let hearth, alice, bob, group, invite, event;
before(async () => {
  hearth = await startHearth();
  [alice, bob] = await Promise.all(['Alice', 'Bob'].map((n) => hearth.signUp(n)));
});
after(() => hearth?.stop());

const join = (pb, code) => pb.send('/api/crews/join', { method: 'POST', body: { code } });

async function uses(inviteId) {
  return (await alice.collection('invites').getOne(inviteId)).uses;
}

describe('create, invite, join', () => {
  test('the creator of a group is its owner', async () => {
    group = await hearth.createGroup(alice, 'Climbers');
    assert.equal(group.created_by, userId(alice));
    const members = await alice.collection('memberships').getFullList({ filter: `group = "${group.id}"`, expand: 'user' });
    assert.equal(members.length, 1);
    assert.equal(members[0].role, 'owner');
    assert.equal(members[0].user, userId(alice));
    assert.equal(members[0].expand.user.name, 'Alice');
  });

  test('an owner creates an invite; the server makes its code', async () => {
    invite = await alice.collection('invites').create({ group: group.id });
    assert.match(invite.code, /^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{12}$/);
    assert.equal(invite.uses, 0);
    assert.equal(invite.created_by, userId(alice));
    event = await alice.collection('events').create({ group: group.id, title: 'Bouldering', starts_at: '2030-05-01 18:00:00.000Z' });
    await alice.collection('rsvps').create({ event: event.id, status: 'going' });
    // Before joining, Bob sees nothing of the group.
    assert.equal((await bob.collection('events').getList(1, 10)).totalItems, 0);
  });

  test('a second user joins by code', async () => {
    const membership = await join(bob, invite.code);
    assert.equal(membership.group, group.id);
    assert.equal(membership.user, userId(bob));
    assert.equal(membership.role, 'member');
    assert.equal(membership.expand.group.id, group.id);
    assert.equal(membership.expand.group.name, 'Climbers');
    assert.equal(await uses(invite.id), 1);
  });

  test('the new member sees the group and its events, with relations expanded', async () => {
    const events = await bob.collection('events').getFullList({ expand: 'group,created_by' });
    assert.deepEqual(events.map((e) => e.id), [event.id]);
    assert.equal(events[0].expand.group.name, 'Climbers');
    assert.equal(events[0].expand.created_by.name, 'Alice');

    const rsvps = await bob.collection('rsvps').getFullList({ filter: `event = "${event.id}"`, expand: 'user,event.group' });
    assert.equal(rsvps.length, 1);
    assert.equal(rsvps[0].expand.user.name, 'Alice');
    assert.equal(rsvps[0].expand.event.expand.group.id, group.id);

    const members = await bob.collection('memberships').getFullList({ filter: `group = "${group.id}"`, expand: 'user', sort: 'created' });
    assert.deepEqual(members.map((m) => [m.expand.user.name, m.role]), [['Alice', 'owner'], ['Bob', 'member']]);

    // A member may not see invites (owners and admins hand them out).
    assert.equal((await bob.collection('invites').getList(1, 10)).totalItems, 0);
  });

  test('joining again returns the existing membership and uses nothing', async () => {
    const first = await bob.collection('memberships').getFirstListItem(`group = "${group.id}" && user = "${userId(bob)}"`);
    const again = await join(bob, invite.code);
    assert.equal(again.id, first.id);
    assert.equal(again.role, 'member');
    assert.equal(await uses(invite.id), 1);
  });
});

describe('codes that do not admit', () => {
  let owner, group2;
  before(async () => {
    owner = await hearth.signUp('Olive');
    group2 = await hearth.createGroup(owner, 'Chess');
  });

  test('an unknown code is 404', async () => {
    const carol = await hearth.signUp('Carol');
    await rejects(join(carol, 'ZZZZZZZZZZZZ'), 404);
    assert.equal((await carol.collection('groups').getList(1, 10)).totalItems, 0);
  });

  test('an anonymous caller is 401', async () => {
    const inv = await owner.collection('invites').create({ group: group2.id });
    await rejects(join(hearth.client(), inv.code), 401);
    assert.equal(await owner.collection('invites').getOne(inv.id).then((i) => i.uses), 0);
  });

  test('an expired code is 400 and says so', async () => {
    const inv = await owner.collection('invites').create({ group: group2.id });
    // Invites cannot be edited through the API; a superuser backdates this one.
    await (await hearth.superuser()).collection('invites').update(inv.id, { expires: '2020-01-01 00:00:00.000Z' });
    const dan = await hearth.signUp('Dan');
    const err = await rejects(join(dan, inv.code), 400);
    assert.equal(err.response.data.code.code, 'validation_invite_expired');
    assert.equal((await dan.collection('groups').getList(1, 10)).totalItems, 0);
    assert.equal((await owner.collection('invites').getOne(inv.id)).uses, 0);
  });

  test('a used-up code is 400 and says so', async () => {
    const inv = await owner.collection('invites').create({ group: group2.id, max_uses: 1 });
    const [erin, fay] = await Promise.all(['Erin', 'Fay'].map((n) => hearth.signUp(n)));
    await join(erin, inv.code);
    const err = await rejects(join(fay, inv.code), 400);
    assert.equal(err.response.data.code.code, 'validation_invite_used_up');
    assert.equal((await fay.collection('groups').getList(1, 10)).totalItems, 0);
    assert.equal((await owner.collection('invites').getOne(inv.id)).uses, 1);
  });
});

test('concurrent joins never pass max_uses', async () => {
  const owner = await hearth.signUp('Rae');
  const crowdGroup = await hearth.createGroup(owner, 'Crowd');
  const inv = await owner.collection('invites').create({ group: crowdGroup.id, max_uses: 5 });
  const crowd = await hearth.signUpMany('joiner', 20);

  const results = await Promise.allSettled(crowd.map((pb) => join(pb, inv.code)));
  const joined = results.filter((r) => r.status === 'fulfilled');
  const refused = results.filter((r) => r.status === 'rejected');
  assert.equal(joined.length, 5, JSON.stringify(refused.map((r) => r.reason?.response)));
  for (const r of refused) {
    assert.equal(r.reason.status, 400);
    assert.equal(r.reason.response.data.code.code, 'validation_invite_used_up');
  }
  assert.equal((await owner.collection('invites').getOne(inv.id)).uses, 5);
  const members = await owner.collection('memberships').getFullList({ filter: `group = "${crowdGroup.id}"` });
  assert.equal(members.length, 6, 'the owner and the five who joined');
});
