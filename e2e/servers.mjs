// Real servers the sign-in tests start beside hearth, each on free loopback
// ports, stopped by the test: mailpit (an SMTP server with an HTTP API to
// read what it received) and an OpenID Connect provider (the example
// provider of zitadel/oidc, internal/oidcop). `make test-servers` builds
// both into bin/ from the Go module proxy.
//
//   import { startMailpit, startOIDC } from './servers.mjs';
//   const mail = await startMailpit();
//   const hearth = await startHearth({ env: mail.env });   // HEARTH_SMTP_* set
//   const msg = await mail.waitFor('ann@crews.test', /code/);  // { subject, text, html }
//   const op = await startOIDC({ redirectURIs: ['crews://auth/callback'], users: [...] });
//   await mail.stop(); await op.stop();
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from './harness.mjs';

const here = new URL('.', import.meta.url).pathname;
export const MAILPIT_BIN = process.env.MAILPIT_BIN || resolve(here, '../bin/mailpit');
export const OIDCOP_BIN = process.env.OIDCOP_BIN || resolve(here, '../bin/oidcop');

/** run starts bin with args and env, and resolves once ready() is true. */
async function run(name, bin, args, env, ready) {
  const proc = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout.on('data', (d) => { output += d; });
  proc.stderr.on('data', (d) => { output += d; });
  const exited = new Promise((ok) => proc.on('exit', ok));
  proc.on('error', (err) => { output += String(err); });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${name} exited with ${proc.exitCode}:\n${output}`);
    if (await ready().catch(() => false)) break;
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`${name} not ready within 30 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    output: () => output,
    async stop() {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await exited;
      }
    },
  };
}

/**
 * startMailpit runs mailpit on loopback. env is what hearth needs to send
 * through it; messages(to) lists what it received for an address, newest
 * first; waitFor(to, subjectPattern) waits for one and reads it.
 */
export async function startMailpit() {
  const [smtpPort, httpPort] = [await freePort(), await freePort()];
  const api = `http://127.0.0.1:${httpPort}/api/v1`;
  const dir = await mkdtemp(join(tmpdir(), 'mailpit-'));
  const proc = await run('mailpit', MAILPIT_BIN, [
    '--smtp', `127.0.0.1:${smtpPort}`, '--listen', `127.0.0.1:${httpPort}`,
    '--database', join(dir, 'mail.db'), '--smtp-disable-rdns',
    '--disable-version-check', '--quiet',
  ], {}, () => fetch(`${api}/info`).then((r) => r.ok));

  async function messages(to) {
    const res = await fetch(`${api}/search?query=${encodeURIComponent(`to:"${to}"`)}`);
    if (!res.ok) throw new Error(`mailpit search: ${res.status}`);
    return (await res.json()).messages;
  }
  return {
    env: {
      HEARTH_SMTP_HOST: '127.0.0.1',
      HEARTH_SMTP_PORT: String(smtpPort),
      HEARTH_SENDER_ADDRESS: 'crews@crews.test',
      HEARTH_SENDER_NAME: 'Crews',
      HEARTH_APP_NAME: 'Crews',
    },
    api,
    messages,
    /** waitFor resolves with the newest message to `to` whose subject matches, read in full ({ Subject, Text, HTML }). */
    async waitFor(to, subject, ms = 10_000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const found = (await messages(to)).find((m) => subject.test(m.Subject));
        if (found) {
          const res = await fetch(`${api}/message/${found.ID}`);
          return res.json();
        }
        if (Date.now() > deadline) throw new Error(`no mail to ${to} with subject ${subject} within ${ms} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    /** clear deletes every message. */
    async clear() {
      await fetch(`${api}/messages`, { method: 'DELETE' });
    },
    async stop() {
      await proc.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * startOIDC runs the OpenID Connect provider on loopback with users
 * ([{ id, username, password, email, emailVerified, firstName, lastName }])
 * and the redirect URIs its clients may use. Its clients: "web" (secret
 * "secret"; http(s) redirects) and "native" (no secret, PKCE; an app's
 * own scheme). env configures hearth with client (default "native").
 */
export async function startOIDC({ redirectURIs, users, client = 'native' }) {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}/`;
  const dir = await mkdtemp(join(tmpdir(), 'oidcop-'));
  const usersFile = join(dir, 'users.json');
  await writeFile(usersFile, JSON.stringify(Object.fromEntries(users.map((u) => [u.id, {
    ID: u.id, Username: u.username, Password: u.password, FirstName: u.firstName, LastName: u.lastName,
    Email: u.email, EmailVerified: u.emailVerified, PreferredLanguage: 'en',
  }]))));
  const proc = await run('oidcop', OIDCOP_BIN, [], {
    ADDR: `127.0.0.1:${port}`, REDIRECT_URI: redirectURIs.join(','), USERS_FILE: usersFile,
  }, () => fetch(`${issuer}.well-known/openid-configuration`).then((r) => r.ok));
  return {
    issuer,
    clientId: client,
    /** env configures hearth's generic OpenID Connect provider with the client. */
    env: {
      HEARTH_OAUTH2_OIDC_CLIENT_ID: client,
      // A native client has no secret (PKCE stands in for it); PocketBase
      // requires one, which the provider ignores for such a client.
      HEARTH_OAUTH2_OIDC_CLIENT_SECRET: client === 'web' ? 'secret' : 'none-for-a-native-client',
      HEARTH_OAUTH2_OIDC_ISSUER: issuer,
      HEARTH_OAUTH2_OIDC_DISPLAY_NAME: 'Test ID',
    },
    output: proc.output,
    async stop() {
      await proc.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
