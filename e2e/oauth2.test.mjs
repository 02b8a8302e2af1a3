// OAuth2 sign-in against a real OpenID Connect provider (the example
// provider of zitadel/oidc, on loopback, started here), through the client
// package's signInWithOAuth2 as the app calls it: the provider's login page
// instead of a phone's auth browser (the test fills its form), then the
// code and PKCE verifier exchanged by authWithOAuth2Code.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PASSWORD, rejects, startHearth } from './harness.mjs';
import { startOIDC } from './servers.mjs';
import { oauth2Providers, signInWithOAuth2 } from '../clients/js/dist/index.js';

const REDIRECT = 'crews://auth/callback';
const users = [
  { id: 'u-ann', username: 'ann', password: 'ann-secret-1', email: 'ann@idp.test', emailVerified: true, firstName: 'Ann', lastName: 'Idp' },
  { id: 'u-lin', username: 'lin', password: 'lin-secret-1', email: 'lin@crews.test', emailVerified: true, firstName: 'Lin', lastName: 'Linked' },
  { id: 'u-nob', username: 'nobody-named', password: 'nob-secret-1', email: 'nob@idp.test', emailVerified: true, firstName: '', lastName: '' },
  { id: 'u-una', username: 'una', password: 'una-secret-1', email: 'una@crews.test', emailVerified: false, firstName: 'Una', lastName: 'Unverified' },
];

let op, hearth;
before(async () => {
  op = await startOIDC({ redirectURIs: [REDIRECT], users });
  hearth = await startHearth({ env: op.env });
});
after(async () => {
  await hearth?.stop();
  await op?.stop();
});

/**
 * browserAs is an openAuthSession that signs in at the provider's login
 * page as username, following redirects as a browser would, up to the
 * app's redirect URL. answer lets a test tamper with what comes back.
 */
function browserAs(username, password, answer = (url) => url) {
  return async (authUrl, redirectUri) => {
    let url = authUrl;
    let body;
    for (let hops = 0; hops < 10; hops++) {
      const res = await fetch(url, body ? { method: 'POST', body, redirect: 'manual' } : { redirect: 'manual' });
      body = undefined;
      const location = res.headers.get('location');
      if (location) {
        url = new URL(location, url).toString();
        if (url.startsWith(redirectUri)) return { type: 'success', url: answer(url) };
        continue;
      }
      const page = await res.text();
      assert.equal(res.status, 200, page);
      // The login page: its form posts the request id with the credentials.
      const id = page.match(/name="id" value="([^"]*)"/)?.[1];
      assert.ok(id, `no login form at ${url}: ${page.slice(0, 300)}`);
      assert.ok(!/color:red[^>]*>[^<\s]/.test(page), `login refused: ${page}`);
      url = new URL('/login/username', url).toString();
      body = new URLSearchParams({ id, username, password });
    }
    throw new Error('too many redirects');
  };
}

describe('OpenID Connect', () => {
  test('the provider is offered, with a PKCE challenge and a state', async () => {
    const [p] = await oauth2Providers(hearth.client());
    assert.equal(p.name, 'oidc');
    assert.equal(p.displayName, 'Test ID');
    assert.equal(p.codeChallengeMethod, 'S256');
    assert.ok(p.state && p.codeVerifier && p.codeChallenge);
    assert.ok(p.authURL.startsWith(op.issuer), p.authURL);
    assert.ok(p.authURL.endsWith('redirect_uri='), p.authURL);
  });

  test('first sign-in makes a verified account named by the provider; the next one finds it', async () => {
    const pb = hearth.client();
    const first = await signInWithOAuth2(pb, 'oidc', { redirectUri: REDIRECT, openAuthSession: browserAs('ann', 'ann-secret-1') });
    assert.equal(first.meta.isNew, true);
    assert.equal(first.meta.email, 'ann@idp.test');
    // The new account's own email and MFA switch are shown to it, though
    // the account was made before anyone was signed in.
    assert.equal(first.record.email, 'ann@idp.test');
    assert.equal(first.record.mfa, false);
    assert.equal(first.record.verified, true);
    assert.equal(first.record.name, 'Ann Idp');
    assert.ok(pb.authStore.isValid);
    // Signed in for real: the records API answers as Ann, and shows her
    // the address the provider verified.
    const me = await pb.collection('users').getOne(first.record.id);
    assert.equal(me.email, 'ann@idp.test');

    const again = await signInWithOAuth2(hearth.client(), 'oidc', { redirectUri: REDIRECT, openAuthSession: browserAs('ann', 'ann-secret-1') });
    assert.equal(again.meta.isNew, false);
    assert.equal(again.record.id, first.record.id);
  });

  test('a verified email of an existing account links to it; an unverified account\'s password is reset', async () => {
    const pb = hearth.client();
    const lin = await pb.collection('users').create({ email: 'lin@crews.test', name: 'Lin', password: PASSWORD, passwordConfirm: PASSWORD });
    // Unverified so far: PocketBase resets the password of an unverified
    // account it links (someone else may have registered the address).
    const res = await signInWithOAuth2(hearth.client(), 'oidc', { redirectUri: REDIRECT, openAuthSession: browserAs('lin', 'lin-secret-1') });
    assert.equal(res.record.id, lin.id);
    assert.equal(res.meta.isNew, false);
    assert.equal(res.record.verified, true);
    await rejects(hearth.client().collection('users').authWithPassword('lin@crews.test', PASSWORD), 400);
  });

  test('an email the provider has not verified links nothing, and makes no account (users need an email)', async () => {
    await hearth.client().collection('users').create({ email: 'una@crews.test', name: 'Una', password: PASSWORD, passwordConfirm: PASSWORD });
    const pb = hearth.client();
    await assert.rejects(
      signInWithOAuth2(pb, 'oidc', { redirectUri: REDIRECT, openAuthSession: browserAs('una', 'una-secret-1') }),
      (e) => e.status === 400 && e.response?.data?.email?.code === 'validation_required',
    );
    assert.equal(pb.authStore.isValid, false);
    // The existing account is untouched: its password still signs in.
    await hearth.client().collection('users').authWithPassword('una@crews.test', PASSWORD);
  });

  test('a provider that sends no name: the account is named by the username', async () => {
    const res = await signInWithOAuth2(hearth.client(), 'oidc', { redirectUri: REDIRECT, openAuthSession: browserAs('nobody-named', 'nob-secret-1') });
    assert.equal(res.meta.isNew, true);
    assert.equal(res.record.name, 'nobody-named');
  });

  test('a code with another PKCE verifier is refused; a tampered state never reaches the server', async () => {
    const pb = hearth.client();
    const [p] = await oauth2Providers(pb);
    const session = browserAs('ann', 'ann-secret-1');
    const { url } = await session(p.authURL + encodeURIComponent(REDIRECT), REDIRECT);
    const code = new URL(url.replace('crews://', 'http://x/')).searchParams.get('code');
    const err = await rejects(pb.collection('users').authWithOAuth2Code('oidc', code, 'x'.repeat(43), REDIRECT), 400);
    assert.equal(pb.authStore.isValid, false, JSON.stringify(err.response));

    await assert.rejects(
      signInWithOAuth2(hearth.client(), 'oidc', {
        redirectUri: REDIRECT,
        openAuthSession: browserAs('ann', 'ann-secret-1', (u) => u.replace(/state=[^&]+/, 'state=forged')),
      }),
      /state mismatch/,
    );
  });

  test('a closed browser signs nobody in', async () => {
    const pb = hearth.client();
    const res = await signInWithOAuth2(pb, 'oidc', { redirectUri: REDIRECT, openAuthSession: async () => ({ type: 'cancel' }) });
    assert.equal(res, null);
    assert.equal(pb.authStore.isValid, false);
  });
});
