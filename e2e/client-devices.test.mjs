// Push device registration through the client package (clients/js
// devices.ts) against the `devices` collection: create with {token,
// platform}, the owner filled with the caller, a token another user held
// moving to the caller, removal on sign-out.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PASSWORD, startHearth } from './harness.mjs';
import { MemoryStorage, createClient, registerDevice, signIn, signOut, signUp, unregisterDevice } from '../clients/js/dist/index.js';

let hearth;
before(async () => { hearth = await startHearth(); });
after(() => hearth?.stop());

let people = 0;
let tokens = 0;
async function person(name) {
  const pb = await createClient(hearth.url, { storage: new MemoryStorage() });
  await signUp(pb, { email: `${name.toLowerCase()}-${++people}@devices.test`, name, password: PASSWORD, passwordConfirm: PASSWORD });
  return pb;
}
const pushToken = () => `ExponentPushToken[device-${++tokens}-xxxxxxxxxxxx]`;
const mine = (pb) => pb.collection('devices').getFullList();

test('a registered device belongs to the caller, once however often it registers', async () => {
  const ann = await person('Ann');
  const token = pushToken();
  const device = await registerDevice(ann, token, 'ios');
  assert.equal(device.user, ann.authStore.record.id);
  assert.equal(device.token, token);
  assert.equal(device.platform, 'ios');
  assert.ok(device.last_seen, 'last_seen is set');

  await registerDevice(ann, token, 'ios');
  const held = await mine(ann);
  assert.equal(held.length, 1, 'registering again keeps one record');
  assert.equal(held[0].token, token);
});

test('a token another user held moves to the caller', async () => {
  const ann = await person('Ann');
  const bob = await person('Bob');
  const token = pushToken();
  await registerDevice(ann, token, 'android');
  const moved = await registerDevice(bob, token, 'android');
  assert.equal(moved.user, bob.authStore.record.id);
  assert.deepEqual(await mine(ann), [], 'the previous holder has it no more');
  assert.deepEqual((await mine(bob)).map((d) => d.token), [token]);
});

test('unregistering and signing out remove the device', async () => {
  const ann = await person('Ann');
  const a = pushToken();
  const b = pushToken();
  await registerDevice(ann, a, 'ios');
  await registerDevice(ann, b, 'android');
  assert.equal(await unregisterDevice(ann, a), true);
  assert.equal(await unregisterDevice(ann, a), false, 'a second unregister finds nothing');
  assert.deepEqual((await mine(ann)).map((d) => d.token), [b]);

  const email = ann.authStore.record.email;
  assert.deepEqual(await signOut(ann, { deviceToken: b }), {});
  await signIn(ann, email, PASSWORD);
  assert.deepEqual(await mine(ann), [], 'signing out unregistered the token');
});

test('a bad platform or token is refused naming the field, and nothing is stored', async () => {
  const ann = await person('Ann');
  for (const [token, platform, field] of [[pushToken(), 'windows', 'platform'], ['not-a-token', 'ios', 'token']]) {
    const err = await registerDevice(ann, token, platform).then(() => null, (e) => e);
    assert.equal(err?.status, 400, `${field}: ${JSON.stringify(err?.response)}`);
    assert.ok(err.response.data[field], `the error names ${field}`);
  }
  assert.deepEqual(await mine(ann), []);
});
