// Push notifications end to end: phones register through the SDK, another
// member posts, and the push arrives at a local server that speaks Expo's
// push API (the real service cannot be reached from the tests).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { startHearth, rejects, userId } from './harness.mjs';

/**
 * fakeExpo answers POST /--/api/v2/push/send as Expo documents it: a JSON
 * array of at most 100 messages in, {"data": [ticket, ...]} out, one
 * {"status": "ok", "id"} ticket per message in order; and
 * POST /--/api/v2/push/getReceipts with {"data": {id: {"status": "ok"}}}.
 * It keeps every message it accepted.
 */
function fakeExpo() {
  const received = [];
  let tickets = 0;
  const server = createServer(async (req, res) => {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const answer = (status, body) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    let body;
    try {
      body = JSON.parse(raw);
    } catch {
      return answer(400, { errors: [{ code: 'VALIDATION_ERROR', message: 'not JSON' }] });
    }
    if (req.method === 'POST' && req.url === '/--/api/v2/push/send') {
      if (!Array.isArray(body) || body.length > 100 || req.headers['content-type'] !== 'application/json') {
        return answer(400, { errors: [{ code: 'VALIDATION_ERROR', message: 'a JSON array of at most 100 messages' }] });
      }
      received.push(...body);
      return answer(200, { data: body.map(() => ({ status: 'ok', id: `ticket-${++tickets}` })) });
    }
    if (req.method === 'POST' && req.url === '/--/api/v2/push/getReceipts') {
      return answer(200, { data: Object.fromEntries((body.ids || []).map((id) => [id, { status: 'ok' }])) });
    }
    answer(404, { errors: [{ code: 'NOT_FOUND', message: req.url }] });
  });
  return new Promise((ok) => {
    server.listen(0, '127.0.0.1', () => ok({
      url: `http://127.0.0.1:${server.address().port}`,
      received,
      to: (token) => received.filter((m) => m.to === token),
      close: () => new Promise((done) => server.close(done)),
    }));
  });
}

let expo;
let hearth;

before(async () => {
  expo = await fakeExpo();
  hearth = await startHearth({ env: { HEARTH_PUSH_URL: expo.url } });
});

after(async () => {
  await hearth?.stop();
  await expo?.close();
});

test('a registered phone gets the push when another member posts; the author and a muting member do not', async () => {
  const alice = await hearth.signUp('Alice');
  const bob = await hearth.signUp('Bob');
  const carol = await hearth.signUp('Carol');
  const group = await hearth.createGroup(alice, 'Climbers');
  await hearth.addMember(group.id, bob);
  await hearth.addMember(group.id, carol);

  const phones = { alice: 'ExponentPushToken[e2e-alice]', bob: 'ExponentPushToken[e2e-bob]', carol: 'ExpoPushToken[e2e-carol]' };
  const device = await bob.collection('devices').create({ token: phones.bob, platform: 'ios' });
  assert.equal(device.user, userId(bob));
  assert.equal(device.token, phones.bob);
  await alice.collection('devices').create({ token: phones.alice, platform: 'android' });
  await carol.collection('devices').create({ token: phones.carol, platform: 'ios' });
  const mute = await carol.collection('mutes').create({ group: group.id });

  // Bob lists his phone and nobody else's; Alice sees neither his phone nor Carol's mute.
  assert.deepEqual((await bob.collection('devices').getFullList()).map((d) => d.token), [phones.bob]);
  assert.deepEqual((await alice.collection('devices').getFullList()).map((d) => d.token), [phones.alice]);
  assert.equal((await alice.collection('mutes').getFullList()).length, 0);

  const msg = await alice.collection('messages').create({ group: group.id, body: 'Climbing tonight?' });
  await hearth.waitFor(() => expo.to(phones.bob).length === 1, 30_000, 'the push to Bob');
  const [push] = expo.to(phones.bob);
  assert.equal(push.title, 'Climbers');
  assert.equal(push.body, 'Alice: Climbing tonight?');
  assert.deepEqual(push.data, { type: 'message', group: group.id, message: msg.id });
  // The message's pushes go in one request, so the others would be here by now.
  assert.equal(expo.to(phones.alice).length, 0, 'the author got her own message');
  assert.equal(expo.to(phones.carol).length, 0, 'Carol muted the group');

  // Carol unmutes; Bob signs out and unregisters first. Carol's next
  // message reaches Alice, and not Bob's old phone.
  await carol.collection('mutes').delete(mute.id);
  await bob.collection('devices').delete(device.id);
  bob.authStore.clear();
  await carol.collection('messages').create({ group: group.id, body: 'Me!' });
  await hearth.waitFor(() => expo.to(phones.alice).length === 1, 30_000, 'the push to Alice');
  assert.equal(expo.to(phones.alice)[0].body, 'Carol: Me!');
  assert.equal(expo.to(phones.bob).length, 1, 'an unregistered phone got a push');
});

test('a bad token or platform is a 400 naming the field, and nothing is stored', async () => {
  const dave = await hearth.signUp('Dave');
  let err = await rejects(dave.collection('devices').create({ token: 'not-a-push-token', platform: 'ios' }), 400);
  assert.ok(err.response.data.token, JSON.stringify(err.response));
  err = await rejects(dave.collection('devices').create({ token: 'ExponentPushToken[e2e-dave]', platform: 'windows' }), 400);
  assert.ok(err.response.data.platform, JSON.stringify(err.response));
  err = await rejects(dave.collection('devices').create({ token: 'ExponentPushToken[e2e-dave]', platform: 'ios', last_seen: '2030-01-01 00:00:00.000Z' }), 400);
  assert.ok(err.response.data.last_seen, JSON.stringify(err.response));
  assert.equal((await dave.collection('devices').getFullList()).length, 0);
});
