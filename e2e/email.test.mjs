// The email flows through a real SMTP server (mailpit, started here): each
// is completed through the SDK with what arrived in the mailbox, as a
// person on a phone would. Also: the answers to "send me an email" are the
// same for an address with an account and one without, and the rate limits
// hold.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PASSWORD, rejects, startHearth } from './harness.mjs';
import { startMailpit } from './servers.mjs';

let mail, hearth;

before(async () => {
  mail = await startMailpit();
  hearth = await startHearth({ env: mail.env });
  // The links' base: the app's public URL (HEARTH_APP_URL in a deploy).
  const su = await hearth.superuser();
  await su.settings.update({ meta: { appURL: hearth.url } });
});

after(async () => {
  await hearth?.stop();
  await mail?.stop();
});

let n = 0;
/** newUser signs up a user with a fresh address; returns its client and email. */
async function newUser(name) {
  const pb = hearth.client();
  const email = `${name}-${++n}@crews.test`;
  await pb.collection('users').create({ email, name, password: PASSWORD, passwordConfirm: PASSWORD });
  await pb.collection('users').authWithPassword(email, PASSWORD);
  return { pb, email };
}

/** tokenOf returns the token of the message's link to action, checking the link's form. */
function tokenOf(msg, action) {
  const prefix = `${hearth.url}/auth/confirm/${action}#`;
  const link = msg.HTML.match(/href="([^"]+)"/)?.[1]?.replaceAll('&amp;', '&');
  assert.ok(link?.startsWith(prefix), `link ${link} is not ${prefix}<token>`);
  return decodeURIComponent(link.slice(prefix.length));
}

/** codeOf returns the one-time code a message carries. */
function codeOf(msg) {
  const code = msg.Text.match(/code is (\d+)/)?.[1];
  assert.ok(code, `no code in ${msg.Text}`);
  return code;
}

describe('email flows', () => {
  test('verification: the link verifies the account', async () => {
    const { pb, email } = await newUser('vera');
    assert.equal(pb.authStore.record.verified, false);
    await hearth.client().collection('users').requestVerification(email);
    const msg = await mail.waitFor(email, /Confirm your email/);
    assert.match(msg.Subject, /Crews/);
    await hearth.client().collection('users').confirmVerification(tokenOf(msg, 'verification'));
    await pb.collection('users').authRefresh();
    assert.equal(pb.authStore.record.verified, true);
  });

  test('the link opens the confirm page', async () => {
    const res = await fetch(`${hearth.url}/auth/confirm/password-reset`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /confirm-' \+ action/);
  });

  test('password reset: the new password signs in, the old one no longer', async () => {
    const { email } = await newUser('rosa');
    await hearth.client().collection('users').requestPasswordReset(email);
    const msg = await mail.waitFor(email, /Reset your Crews password/);
    const fresh = 'a-brand-new-password-1';
    await hearth.client().collection('users').confirmPasswordReset(tokenOf(msg, 'password-reset'), fresh, fresh);
    await hearth.client().collection('users').authWithPassword(email, fresh);
    await rejects(hearth.client().collection('users').authWithPassword(email, PASSWORD), 400);
  });

  test('email change: the new address receives the link and becomes the account\'s', async () => {
    const { pb, email } = await newUser('emil');
    const newEmail = `emil-new-${++n}@crews.test`;
    await pb.collection('users').requestEmailChange(newEmail);
    const msg = await mail.waitFor(newEmail, /Confirm your new email/);
    assert.equal((await mail.messages(email)).filter((m) => /new email/.test(m.Subject)).length, 0, 'the old address got the link');
    await hearth.client().collection('users').confirmEmailChange(tokenOf(msg, 'email-change'), PASSWORD);
    const again = hearth.client();
    await again.collection('users').authWithPassword(newEmail, PASSWORD);
    assert.equal(again.authStore.record.email, newEmail);
    await rejects(hearth.client().collection('users').authWithPassword(email, PASSWORD), 400);
  });

  test('OTP sign-in: the emailed code signs in', async () => {
    const { email } = await newUser('otto');
    const pb = hearth.client();
    const { otpId } = await pb.collection('users').requestOTP(email);
    const msg = await mail.waitFor(email, /Your Crews code/);
    const code = codeOf(msg);
    assert.equal(code.length, 8);
    await rejects(pb.collection('users').authWithOTP(otpId, code === '00000000' ? '11111111' : '00000000'), 400);
    await pb.collection('users').authWithOTP(otpId, code);
    assert.equal(pb.authStore.record.email, email);
    // A code signs in once.
    await rejects(hearth.client().collection('users').authWithOTP(otpId, code), 400);
  });

  test('MFA: a user who turned it on needs the password and an emailed code', async () => {
    const { pb, email } = await newUser('mia');
    await pb.collection('users').update(pb.authStore.record.id, { mfa: true });

    const phone = hearth.client();
    const err = await rejects(phone.collection('users').authWithPassword(email, PASSWORD), 401);
    const mfaId = err.response.mfaId;
    assert.ok(mfaId, `no mfaId in ${JSON.stringify(err.response)}`);
    assert.equal(phone.authStore.isValid, false);

    const { otpId } = await phone.collection('users').requestOTP(email);
    const code = codeOf(await mail.waitFor(email, /Your Crews code/));
    await phone.collection('users').authWithOTP(otpId, code, { mfaId });
    assert.equal(phone.authStore.record.email, email);
    // The code alone is not enough either: a fresh code without the
    // password's mfaId asks for the other factor.
    await mail.clear();
    const second = await phone.collection('users').requestOTP(email);
    const code2 = codeOf(await mail.waitFor(email, /Your Crews code/));
    const err2 = await rejects(hearth.client().collection('users').authWithOTP(second.otpId, code2), 401);
    assert.ok(err2.response.mfaId);
  });

  test('no enumeration: the same answer for an address with an account and one without', async () => {
    const { email } = await newUser('nora');
    const unknown = `nobody-${++n}@crews.test`;
    const post = (path, body) => fetch(`${hearth.url}/api/collections/users/${path}`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
    }).then(async (res) => ({ status: res.status, body: await res.text() }));
    for (const path of ['request-verification', 'request-password-reset']) {
      const known = await post(path, { email });
      const none = await post(path, { email: unknown });
      assert.deepEqual(none, known, path);
      assert.equal(known.status, 204, path);
    }
    // OTP answers carry an id either way, of the same form.
    const known = await post('request-otp', { email });
    const none = await post('request-otp', { email: unknown });
    assert.equal(known.status, 200);
    assert.equal(none.status, 200);
    const [k, u] = [JSON.parse(known.body), JSON.parse(none.body)];
    assert.deepEqual(Object.keys(u), Object.keys(k));
    assert.equal(u.otpId.length, k.otpId.length);
    // The unknown address got nothing.
    assert.deepEqual(await mail.messages(unknown), []);
    // Signing in with a wrong password reads the same with or without an account.
    const bad = await post('auth-with-password', { identity: email, password: 'wrong-password-1' });
    const badNone = await post('auth-with-password', { identity: unknown, password: 'wrong-password-1' });
    assert.deepEqual(badNone, bad);
  });
});

describe('rate limits', () => {
  let limited;
  before(async () => {
    limited = await startHearth({ env: { ...mail.env, HEARTH_RATE_LIMITS: 'true' } });
  });
  after(async () => { await limited?.stop(); });

  test('each email-sending request: three a minute from one address, then 429, known or unknown email alike', async () => {
    const email = `rate-${++n}@crews.test`;
    await limited.client().collection('users').create({ email, name: 'Rate', password: PASSWORD, passwordConfirm: PASSWORD });
    for (const path of ['request-verification', 'request-password-reset', 'request-otp']) {
      const statuses = [];
      for (let i = 0; i < 5; i++) {
        const to = i % 2 ? email : `nobody-${++n}@crews.test`;
        const res = await fetch(`${limited.url}/api/collections/users/${path}`, {
          method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email: to }),
        });
        statuses.push(res.status);
      }
      const ok = path === 'request-otp' ? 200 : 204;
      assert.deepEqual(statuses, [ok, ok, ok, 429, 429], path);
    }
  });
});
