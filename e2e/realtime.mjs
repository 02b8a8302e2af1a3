// The realtime scenario, shared by the test files that run it over each
// EventSource implementation. The PocketBase SDK opens its stream with the
// global EventSource, so each file sets that global (a test file runs in its
// own process) and calls realtimeSuite.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHearth } from './harness.mjs';

// DELIVERY_TIMEOUT bounds the wait for an event: the issue's "within 2
// seconds". It fails a test that waits longer; it does not measure speed.
const DELIVERY_TIMEOUT = 2000;

/**
 * realtimeSuite registers the realtime tests. EventSourceClass is the
 * implementation under test, already installed as globalThis.EventSource;
 * checkStream(pb) may assert more about the client's open stream.
 */
export function realtimeSuite(EventSourceClass, checkStream = () => {}) {
  assert.equal(globalThis.EventSource, EventSourceClass, 'the implementation under test is the global EventSource');

  let hearth, alice, bob, otto, group, ottoGroup, event;
  before(async () => {
    hearth = await startHearth();
    [alice, bob, otto] = await Promise.all(['Alice', 'Bob', 'Otto'].map((n) => hearth.signUp(n)));
    group = await hearth.createGroup(alice, 'Climbers');
    await hearth.addMember(group.id, bob);
    ottoGroup = await hearth.createGroup(otto, "Otto's own");
    event = await alice.collection('events').create({ group: group.id, title: 'Bouldering', starts_at: '2030-05-01 18:00:00.000Z' });
  });
  after(async () => {
    for (const pb of [alice, bob, otto]) await pb?.realtime.unsubscribe();
    await hearth?.stop();
  });

  test('members receive creates; an outsider receives nothing of the group', async () => {
    const bobInbox = await subscribe(bob, ['messages', 'rsvps']);
    const ottoInbox = await subscribe(otto, ['messages', 'rsvps']);
    assert.ok(bob.realtime.eventSource instanceof EventSourceClass);
    assert.ok(otto.realtime.eventSource instanceof EventSourceClass);
    checkStream(bob);

    const message = await alice.collection('messages').create({ group: group.id, body: 'Chalk is in my car 🚗' });
    const rsvp = await alice.collection('rsvps').create({ event: event.id, status: 'going' });

    const got = await bobInbox.next('messages', (e) => e.record.id === message.id);
    assert.equal(got.action, 'create');
    assert.equal(got.record.body, 'Chalk is in my car 🚗');
    assert.equal(got.record.group, group.id);
    assert.equal(got.record.author, alice.authStore.record.id);
    const gotRsvp = await bobInbox.next('rsvps', (e) => e.record.id === rsvp.id);
    assert.equal(gotRsvp.action, 'create');
    assert.equal(gotRsvp.record.event, event.id);
    assert.equal(gotRsvp.record.status, 'going');

    // Otto's stream is live: he receives his own group's message. Events are
    // delivered to a client in order, so once his own has arrived anything
    // of Climbers (sent earlier) would have arrived too.
    const own = await otto.collection('messages').create({ group: ottoGroup.id, body: 'Anyone?' });
    await ottoInbox.next('messages', (e) => e.record.id === own.id);
    const leaked = ottoInbox.all().filter((e) => e.record.group === group.id || e.record.event === event.id);
    assert.deepEqual(leaked, [], 'the outsider received events of a group he is not in');
    // And the other way round: Bob got nothing of Otto's group.
    assert.ok(!bobInbox.all().some((e) => e.record.id === own.id), "a member of Climbers received Otto's message");
  });

  test('updates and deletes reach members too', async () => {
    const bobInbox = await subscribe(bob, ['messages']);
    const message = await alice.collection('messages').create({ group: group.id, body: 'typo' });
    await bobInbox.next('messages', (e) => e.action === 'create' && e.record.id === message.id);
    await alice.collection('messages').update(message.id, { body: 'fixed' });
    const updated = await bobInbox.next('messages', (e) => e.action === 'update' && e.record.id === message.id);
    assert.equal(updated.record.body, 'fixed');
    await alice.collection('messages').delete(message.id);
    await bobInbox.next('messages', (e) => e.action === 'delete' && e.record.id === message.id);
  });

  test('a member removed mid-stream stops receiving at once', async () => {
    const [carol] = await hearth.signUpMany('Carol', 1);
    const membership = await hearth.addMember(group.id, carol);
    const own = await hearth.createGroup(carol, "Carol's own");
    const inbox = await subscribe(carol, ['messages']);
    const before = await alice.collection('messages').create({ group: group.id, body: 'still here?' });
    await inbox.next('messages', (e) => e.record.id === before.id);

    await alice.collection('memberships').delete(membership.id);
    const after = await alice.collection('messages').create({ group: group.id, body: 'after the removal' });
    // Carol's own group's message is sent after; events arrive in order.
    const barrier = await carol.collection('messages').create({ group: own.id, body: 'mine' });
    await inbox.next('messages', (e) => e.record.id === barrier.id);
    assert.ok(!inbox.all().some((e) => e.record.id === after.id), 'a removed member received a message sent after her removal');
    await carol.realtime.unsubscribe();
  });

  test('expand options are honoured', async () => {
    const received = [];
    await bob.collection('messages').subscribe('*', (e) => received.push(e), { expand: 'author,group', fields: 'id,body,expand.author.name,expand.author.email,expand.group.name' });
    const message = await alice.collection('messages').create({ group: group.id, body: 'expanded' });
    const deadline = Date.now() + DELIVERY_TIMEOUT;
    while (!received.some((e) => e.record.id === message.id)) {
      assert.ok(Date.now() < deadline, `no expanded event within ${DELIVERY_TIMEOUT} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const got = received.find((e) => e.record.id === message.id);
    assert.deepEqual(got.record, { id: message.id, body: 'expanded', expand: { author: { name: 'Alice' }, group: { name: 'Climbers' } } });
    await bob.collection('messages').unsubscribe('*');
  });
}

/**
 * subscribe subscribes pb to every record of each collection and returns an
 * inbox: all() lists what arrived, next(collection, match) resolves with the
 * first event (already arrived or to come) that matches, or rejects after
 * DELIVERY_TIMEOUT.
 */
export async function subscribe(pb, collections) {
  const received = [];
  const waiters = new Set();
  for (const name of collections) {
    await pb.collection(name).subscribe('*', (e) => {
      const item = { ...e, collection: name };
      received.push(item);
      for (const w of waiters) w(item);
    });
  }
  return {
    all: () => received.slice(),
    next(collection, match) {
      const seen = received.find((e) => e.collection === collection && match(e));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no matching ${collection} event within ${DELIVERY_TIMEOUT} ms; received: ${JSON.stringify(received)}`));
        }, DELIVERY_TIMEOUT);
        const waiter = (e) => {
          if (e.collection === collection && match(e)) {
            clearTimeout(timer);
            waiters.delete(waiter);
            resolve(e);
          }
        };
        waiters.add(waiter);
      });
    },
  };
}
