// RSVP capacity and waitlist under concurrent requests through the SDK.
// Contract: "going" on a full event is stored and returned as "waitlisted";
// a client may not send "waitlisted" (400 naming status); when a going RSVP
// is deleted or changes status, or the capacity is raised, the oldest
// waitlisted RSVPs become going in the same transaction; events.going_count
// always equals the number of going RSVPs.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rejects, startHearth, userId } from './harness.mjs';

const CAPACITY = 10;
const CROWD = 32;

let hearth, owner, crowd, group, event;
before(async () => {
  hearth = await startHearth();
  owner = await hearth.signUp('Olive');
  group = await hearth.createGroup(owner, 'Runners');
  crowd = await hearth.signUpMany('runner', CROWD);
  await Promise.all(crowd.map((pb) => hearth.addMember(group.id, pb)));
  event = await owner.collection('events').create({
    group: group.id, title: 'Track night', starts_at: '2030-05-01 18:00:00.000Z', capacity: CAPACITY,
  });
});
after(() => hearth?.stop());

/** state reads the event's RSVPs (oldest first) and going_count as the owner sees them. */
async function state() {
  const rsvps = await owner.collection('rsvps').getFullList({ filter: `event = "${event.id}"`, sort: 'created' });
  const going = rsvps.filter((r) => r.status === 'going');
  const waitlisted = rsvps.filter((r) => r.status === 'waitlisted');
  const { going_count: goingCount } = await owner.collection('events').getOne(event.id);
  return { rsvps, going, waitlisted, goingCount };
}

/**
 * assertOldestPromoted checks that promoted are exactly the RSVPs that left
 * the waitlist, and that none of them is younger than one still waiting
 * (ties in `created` are allowed either way).
 */
function assertOldestPromoted(before, after, count) {
  const stillWaiting = new Set(after.waitlisted.map((r) => r.id));
  const promoted = before.waitlisted.filter((r) => !stillWaiting.has(r.id));
  assert.equal(promoted.length, count, 'number promoted');
  const goingIds = new Set(after.going.map((r) => r.id));
  for (const r of promoted) assert.ok(goingIds.has(r.id), `promoted RSVP ${r.id} is going`);
  const newest = promoted.map((r) => r.created).sort().at(-1);
  for (const r of after.waitlisted) {
    assert.ok(r.created >= newest, `waitlisted ${r.id} (${r.created}) is older than a promoted one (${newest})`);
  }
}

test('a client cannot put itself on the waitlist', async () => {
  const err = await rejects(crowd[0].collection('rsvps').create({ event: event.id, status: 'waitlisted' }), 400);
  assert.ok(err.response.data.status, JSON.stringify(err.response));
  assert.equal((await state()).rsvps.length, 0);
});

test(`${CROWD} concurrent "going" RSVPs fill ${CAPACITY} places and waitlist the rest`, async () => {
  const results = await Promise.all(crowd.map((pb) => pb.collection('rsvps').create({ event: event.id, status: 'going' })));
  assert.equal(results.filter((r) => r.status === 'going').length, CAPACITY);
  assert.equal(results.filter((r) => r.status === 'waitlisted').length, CROWD - CAPACITY);

  const s = await state();
  assert.equal(s.rsvps.length, CROWD);
  assert.equal(s.going.length, CAPACITY);
  assert.equal(s.waitlisted.length, CROWD - CAPACITY);
  assert.equal(s.goingCount, CAPACITY);
  // What each client was told is what was stored.
  const told = new Map(results.map((r) => [r.id, r.status]));
  for (const r of s.rsvps) assert.equal(told.get(r.id), r.status);
});

test('a waitlisted client cannot promote itself', async () => {
  const s = await state();
  const waiting = s.waitlisted.at(-1);
  const pb = crowd.find((c) => userId(c) === waiting.user);
  // Either refused with a 400, or stored as waitlisted again: never going past capacity.
  try {
    const stored = await pb.collection('rsvps').update(waiting.id, { status: 'going' });
    assert.equal(stored.status, 'waitlisted');
  } catch (err) {
    if (err?.code === 'ERR_ASSERTION') throw err;
    assert.equal(err.status, 400, JSON.stringify(err.response));
  }
  const after = await state();
  assert.equal(after.going.length, CAPACITY);
  assert.equal(after.goingCount, CAPACITY);
});

test('5 going cancel at once: the 5 oldest waitlisted are promoted', async () => {
  const before = await state();
  const leaving = before.going.slice(0, 5);
  await Promise.all(leaving.map((r) => crowd.find((c) => userId(c) === r.user).collection('rsvps').delete(r.id)));

  const after = await state();
  assert.equal(after.going.length, CAPACITY);
  assert.equal(after.goingCount, CAPACITY);
  assert.equal(after.waitlisted.length, before.waitlisted.length - 5);
  assertOldestPromoted(before, after, 5);
});

test('a going RSVP changed to declined promotes the oldest waitlisted', async () => {
  const before = await state();
  const r = before.going.at(-1);
  const declined = await crowd.find((c) => userId(c) === r.user).collection('rsvps').update(r.id, { status: 'declined' });
  assert.equal(declined.status, 'declined');

  const after = await state();
  assert.equal(after.going.length, CAPACITY);
  assert.equal(after.goingCount, CAPACITY);
  assertOldestPromoted(before, after, 1);
});

test('raising the capacity promotes as many as it frees', async () => {
  const before = await state();
  await owner.collection('events').update(event.id, { capacity: CAPACITY + 3 });

  const after = await state();
  assert.equal(after.going.length, CAPACITY + 3);
  assert.equal(after.goingCount, CAPACITY + 3);
  assertOldestPromoted(before, after, 3);
});
