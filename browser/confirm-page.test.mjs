// The page an email's link opens when the app does not (auth/confirm.html),
// in headless Chromium: the links of a real email (mailpit) for a password
// reset, an email change and a verification, each completed on the page.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PASSWORD, startHearth } from '../e2e/harness.mjs';
import { startMailpit } from '../e2e/servers.mjs';
import { SHOWN, launch, shot } from './browser.mjs';

let mail, hearth, browser;
before(async () => {
  mail = await startMailpit();
  hearth = await startHearth({ env: mail.env });
  await (await hearth.superuser()).settings.update({ meta: { appURL: hearth.url } });
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await hearth?.stop();
  await mail?.stop();
});


/** linkIn returns the confirm link of the newest message to `to` whose subject matches. */
async function linkIn(to, subject) {
  const msg = await mail.waitFor(to, subject);
  return msg.HTML.match(/href="([^"]+)"/)[1].replaceAll('&amp;', '&');
}

async function open(link) {
  const page = await (await browser.newContext()).newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.context().on('request', (r) => { if (!r.url().startsWith(hearth.url)) errors.push(`request to ${r.url()}`); });
  await page.goto(link);
  return { page, errors };
}

test('password reset, email change and verification completed on the page', async () => {
  const pb = hearth.client();
  const email = 'page-user@crews.test';
  const user = await pb.collection('users').create({ email, name: 'Page', password: PASSWORD, passwordConfirm: PASSWORD });

  // Verification: the page confirms at once.
  await pb.collection('users').requestVerification(email);
  const v = await open(await linkIn(email, /Confirm your email/));
  await v.page.getByText('Your email is confirmed').waitFor(SHOWN);
  assert.equal((await (await hearth.superuser()).collection('users').getOne(user.id)).verified, true);

  // Password reset: a wrong repeat is refused with the server's words; then it works.
  await pb.collection('users').requestPasswordReset(email);
  const r = await open(await linkIn(email, /Reset your Crews password/));
  await r.page.locator('#password').fill('page-new-password-1');
  await r.page.locator('#passwordConfirm').fill('something-else-123');
  await r.page.getByRole('button', { name: 'Continue' }).click();
  await r.page.locator('.error').waitFor(SHOWN);
  await r.page.locator('#passwordConfirm').fill('page-new-password-1');
  await r.page.getByRole('button', { name: 'Continue' }).click();
  await r.page.getByText('Your password is changed').waitFor(SHOWN);
  await shot(r.page, 'confirm-password-reset');
  await hearth.client().collection('users').authWithPassword(email, 'page-new-password-1');

  // Email change: asks for the current password.
  await pb.collection('users').authWithPassword(email, 'page-new-password-1');
  await pb.collection('users').requestEmailChange('page-new@crews.test');
  const c = await open(await linkIn('page-new@crews.test', /Confirm your new email/));
  await c.page.locator('#password').fill('page-new-password-1');
  await c.page.getByRole('button', { name: 'Continue' }).click();
  await c.page.getByText('Your email is changed').waitFor(SHOWN);
  await hearth.client().collection('users').authWithPassword('page-new@crews.test', 'page-new-password-1');

  // A link without its token says so and posts nothing.
  const broken = await open(`${hearth.url}/auth/confirm/verification`);
  await broken.page.getByText('This link is incomplete').waitFor(SHOWN);

  for (const p of [v, r, c, broken]) assert.deepEqual(p.errors, []);
});
