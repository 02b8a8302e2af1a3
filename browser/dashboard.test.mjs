// The dashboard at /_/ in headless Chromium against a real hearth: a
// superuser signs in, sees every Crews collection, creates a group and a
// membership, raises an event's capacity and sees the waitlist promoted
// (the domain hooks run for dashboard writes too), and never receives a
// user's password hash or token key.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { SUPERUSER, startHearth } from '../e2e/harness.mjs';
import { SHOWN, launch, shot } from './browser.mjs';

let hearth;
let browser;
before(async () => {
  hearth = await startHearth();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await hearth?.stop();
});

const CREWS = ['groups', 'users', 'memberships', 'invites', 'events', 'rsvps', 'messages'];

/** secretsOf reads users' password hashes and token keys from the database file itself. */
function secretsOf(dataDir) {
  const out = execFileSync('sqlite3', ['-readonly', '-separator', '\t', join(dataDir, 'data.db'),
    'SELECT password, tokenKey FROM users'], { encoding: 'utf8' });
  return out.trim().split('\n').flatMap((line) => line.split('\t')).filter(Boolean);
}

/** pick opens the records picker of relation field in the open form and selects the row showing label. */
async function pick(page, field, label) {
  await page.locator(`output[name="${field}"]`).getByRole('button', { name: 'Open records picker' }).click();
  const picker = page.locator('.records-picker-modal[data-modal-state="open"]');
  await picker.getByText(label, { exact: true }).click();
  await picker.getByText('Selected (1 of max 1)').waitFor(SHOWN);
  await picker.getByRole('button', { name: 'Set selection' }).click();
}

test('a superuser manages Crews data in the dashboard, and secrets stay out of it', async () => {
  // The world, made through the API as the app would.
  const ann = await hearth.signUp('Ann');
  const bob = await hearth.signUp('Bob');
  const cat = await hearth.signUp('Cat');
  const su = await hearth.superuser();
  const hikers = await ann.collection('groups').create({ name: 'Hikers' });
  await hearth.addMember(hikers.id, cat);
  const summit = await ann.collection('events').create({ group: hikers.id, title: 'Summit', starts_at: '2030-01-01 08:00:00.000Z', capacity: 1 });
  await ann.collection('rsvps').create({ event: summit.id, status: 'going' });
  const waiting = await cat.collection('rsvps').create({ event: summit.id, status: 'going' });
  assert.equal(waiting.status, 'waitlisted');

  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const bodies = [];
  const elsewhere = [];
  context.on('request', (r) => { if (!r.url().startsWith(hearth.url)) elsewhere.push(r.url()); });
  context.on('response', async (r) => {
    if (r.url().startsWith(`${hearth.url}/api/`)) bodies.push(await r.text().catch(() => ''));
  });
  const page = await context.newPage();

  // Sign in.
  await page.goto(`${hearth.url}/_/`);
  await page.getByLabel('Email').fill(SUPERUSER.email);
  await page.getByLabel('Password', { exact: true }).fill(SUPERUSER.password);
  await page.getByRole('button', { name: 'Login' }).click();

  // Every Crews collection is in the sidebar.
  const sidebar = page.getByRole('complementary');
  for (const name of CREWS) {
    await sidebar.getByRole('button', { name, exact: false }).filter({ hasText: new RegExp(`^\\s*${name}\\s*$`) }).first().waitFor(SHOWN);
  }
  await shot(page, 'dashboard-1-collections');

  // A group, created by picking its creator: the groups hook makes her its owner.
  await sidebar.getByRole('button', { name: 'groups' }).first().click();
  await page.getByRole('button', { name: 'New record' }).first().click();
  await page.getByRole('textbox', { name: 'name *' }).fill('Dashboard crew');
  await pick(page, 'created_by', 'Ann');
  await shot(page, 'dashboard-2-new-group');
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await page.getByRole('cell', { name: 'Dashboard crew' }).waitFor(SHOWN);
  const crew = await su.collection('groups').getFirstListItem('name = "Dashboard crew"');
  assert.equal(crew.created_by, ann.authStore.record.id);
  const owner = await su.collection('memberships').getFirstListItem(`group = "${crew.id}"`);
  assert.equal(owner.role, 'owner', 'the owner membership made by the hook');

  // A membership for Bob in it.
  await sidebar.getByRole('button', { name: 'memberships' }).first().click();
  await page.getByRole('button', { name: 'New record' }).first().click();
  await pick(page, 'group', 'Dashboard crew');
  await pick(page, 'user', 'Bob');
  await page.locator('.record-field-input', { has: page.locator('[name="role"]') }).click();
  await page.getByText('member', { exact: true }).last().click();
  await shot(page, 'dashboard-3-new-membership');
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await hearth.waitFor(async () => (await su.collection('memberships').getList(1, 1, { filter: `group = "${crew.id}" && user = "${bob.authStore.record.id}"` })).totalItems === 1, 15_000, 'membership from the dashboard');
  assert.equal((await bob.collection('groups').getOne(crew.id)).name, 'Dashboard crew', 'Bob now sees the group');

  // Raise the event's capacity: Cat, waitlisted, is promoted.
  await sidebar.getByRole('button', { name: 'events' }).first().click();
  await page.getByRole('cell', { name: 'Summit' }).click();
  await page.getByRole('spinbutton', { name: 'capacity' }).fill('2');
  await shot(page, 'dashboard-4-capacity');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await hearth.waitFor(async () => (await su.collection('rsvps').getOne(waiting.id)).status === 'going', 15_000, 'promotion after the dashboard edit');
  assert.equal((await su.collection('events').getOne(summit.id)).going_count, 2);
  await sidebar.getByRole('button', { name: 'rsvps' }).first().click();
  await page.getByRole('cell', { name: 'going' }).nth(1).waitFor(SHOWN);
  assert.equal(await page.getByRole('cell', { name: 'waitlisted' }).count(), 0, 'nobody is left waitlisted');
  await shot(page, 'dashboard-5-promoted');

  // The users: listed and opened, without their secrets.
  await sidebar.getByRole('button', { name: 'users' }).first().click();
  await page.getByRole('cell', { name: 'Ann', exact: true }).click();
  await page.getByRole('heading', { name: /users/ }).last().waitFor(SHOWN);
  await shot(page, 'dashboard-6-user');
  const secrets = secretsOf(hearth.dataDir);
  assert.ok(secrets.length >= 6 && secrets.some((s) => s.startsWith('$2')), 'the database holds hashes and token keys');
  const seen = [...bodies, await page.content()].join('\n');
  for (const secret of secrets) {
    assert.ok(!seen.includes(secret), 'a password hash or token key reached the dashboard');
  }
  assert.doesNotMatch(seen, /"tokenKey"\s*:\s*"[^"]/);
  assert.doesNotMatch(seen, /\$2[aby]\$\d\d\$/, 'no bcrypt hash anywhere');
  assert.deepEqual(elsewhere, [], 'the dashboard asks nothing of other hosts');
  await context.close();
});
