// Sign-in with an OpenID Connect provider in the example app's web build,
// in headless Chromium: the button the app shows for the provider Hearth
// offers, the provider's own login page (the example provider of
// zitadel/oidc on loopback), and back in the app, signed in.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHearth } from '../e2e/harness.mjs';
import { startOIDC } from '../e2e/servers.mjs';
import { serveWeb } from '../examples/crews-app/web/serve.mjs';
import { SHOWN, launch, shot } from './browser.mjs';

let op, hearth, web, browser;
before(async () => {
  // A native client may come back to any port of a loopback redirect
  // (RFC 8252 7.3): the web build's port is known only later.
  op = await startOIDC({
    redirectURIs: ['http://127.0.0.1/'],
    users: [{ id: 'u-ida', username: 'ida', password: 'ida-secret-1', email: 'ida@idp.test', emailVerified: true, firstName: 'Ida', lastName: 'Provider' }],
  });
  hearth = await startHearth({ env: op.env });
  web = await serveWeb({ hearthUrl: hearth.url });
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await web?.close();
  await hearth?.stop();
  await op?.stop();
});


test('the provider\'s button, its login page, and back in the app signed in', async () => {
  const context = await browser.newContext({ viewport: { width: 480, height: 820 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // Only the app, its Hearth and the provider are ever asked.
  context.on('request', (r) => {
    if (![web.url, hearth.url, op.issuer.slice(0, -1)].some((origin) => r.url().startsWith(origin))) errors.push(`request to ${r.url()}`);
  });

  await page.goto(web.url);
  await page.getByTestId('oauth2-oidc').click();
  // The provider's page, not the app's.
  await page.waitForURL((u) => u.toString().startsWith(op.issuer), SHOWN);
  await page.locator('#username').fill('ida');
  await page.locator('#password').fill('ida-secret-1');
  await shot(page, 'oauth2-provider-login');
  await page.getByRole('button', { name: 'Login' }).click();

  // Back in the app: signed in as Ida, the code gone from the address bar.
  await page.getByText('My groups').waitFor(SHOWN);
  await shot(page, 'oauth2-signed-in');
  assert.equal(new URL(page.url()).origin, web.url);
  assert.doesNotMatch(page.url(), /code=|state=/);
  const stored = await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('hearth.')));
  assert.ok(!stored.includes('hearth.oauth2'), `the pending sign-in stays in storage: ${stored}`);

  // Hearth has Ida's account, made by this sign-in.
  const su = await hearth.superuser();
  const ida = await su.collection('users').getFirstListItem('email = "ida@idp.test"');
  assert.equal(ida.name, 'Ida Provider');
  assert.equal(ida.verified, true);
  assert.deepEqual(errors, []);
  await context.close();
});
