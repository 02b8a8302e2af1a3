// Files: a chat message with an image attachment (a protected file, read
// with a short-lived file token) and a user's avatar with its 100x100 thumb.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rejects, startHearth } from './harness.mjs';
import { makePNG, pngSize } from './png.mjs';

let hearth, alice, bob, otto, group;
before(async () => {
  hearth = await startHearth();
  [alice, bob, otto] = await Promise.all(['Alice', 'Bob', 'Otto'].map((n) => hearth.signUp(n)));
  group = await hearth.createGroup(alice, 'Climbers');
  await hearth.addMember(group.id, bob);
});
after(() => hearth?.stop());

async function get(url) {
  const res = await fetch(url);
  return { status: res.status, type: res.headers.get('content-type'), body: Buffer.from(await res.arrayBuffer()) };
}

test('a message attachment is served to members with a file token only', async () => {
  const photo = makePNG(320, 240);
  const message = await alice.collection('messages').create({
    group: group.id,
    body: 'The crag',
    attachments: [new File([photo], 'crag.png', { type: 'image/png' })],
  });
  assert.equal(message.attachments.length, 1);
  const name = message.attachments[0];
  assert.match(name, /^crag_\w+\.png$/, 'stored under a randomised name');

  const url = bob.files.getURL(message, name);
  assert.equal((await get(url)).status, 404, 'a protected file without a token');

  const token = await bob.files.getToken();
  const file = await get(bob.files.getURL(message, name, { token }));
  assert.equal(file.status, 200);
  assert.equal(file.type, 'image/png');
  assert.ok(file.body.equals(photo), 'the bytes uploaded are the bytes served');

  const thumb = await get(bob.files.getURL(message, name, { token, thumb: '100x100' }));
  assert.equal(thumb.status, 200);
  assert.deepEqual(pngSize(thumb.body), { width: 100, height: 100 });

  // An outsider's valid file token does not open another group's files.
  const ottoToken = await otto.files.getToken();
  assert.equal((await get(otto.files.getURL(message, name, { token: ottoToken }))).status, 404);
  assert.equal((await get(otto.files.getURL(message, name, { token: 'not-a-token' }))).status, 404);
});

test('an avatar and its 100x100 thumb', async () => {
  const me = bob.authStore.record;
  const updated = await bob.collection('users').update(me.id, {
    avatar: new File([makePNG(300, 200)], 'me.png', { type: 'image/png' }),
  });
  assert.ok(updated.avatar);

  // With a file token, so the test holds whether or not users.avatar is a
  // protected field.
  const token = await bob.files.getToken();
  const original = await get(bob.files.getURL(updated, updated.avatar, { token }));
  assert.equal(original.status, 200);
  assert.deepEqual(pngSize(original.body), { width: 300, height: 200 });

  const thumb = await get(bob.files.getURL(updated, updated.avatar, { token, thumb: '100x100' }));
  assert.equal(thumb.status, 200);
  assert.equal(thumb.type, 'image/png');
  assert.deepEqual(pngSize(thumb.body), { width: 100, height: 100 });

  // A size the schema does not declare is not generated: the original is served.
  const undeclared = await get(bob.files.getURL(updated, updated.avatar, { token, thumb: '37x37' }));
  assert.deepEqual(pngSize(undeclared.body), { width: 300, height: 200 });
});

test('files that break the schema are refused with the field named', async () => {
  const me = alice.authStore.record;
  const count = async () => (await alice.collection('messages').getList(1, 1, { filter: `group = "${group.id}"` })).totalItems;
  const before = await count();
  const notImage = await rejects(alice.collection('users').update(me.id, {
    avatar: new File(['just text'], 'me.txt', { type: 'text/plain' }),
  }), 400);
  assert.equal(notImage.response.data.avatar.code, 'validation_invalid_mime_type');

  const tooMany = await rejects(alice.collection('messages').create({
    group: group.id,
    body: 'Five photos',
    attachments: Array.from({ length: 5 }, (_, i) => new File([makePNG(2, 2)], `p${i}.png`, { type: 'image/png' })),
  }), 400);
  assert.ok(tooMany.response.data.attachments, JSON.stringify(tooMany.response.data));
  assert.equal(await count(), before, 'nothing stored');
  assert.equal((await alice.collection('users').getOne(me.id)).avatar, '', 'avatar unchanged');
});
