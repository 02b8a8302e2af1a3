// The e2e harness: starts the real hearth binary on a free loopback port with
// a fresh data dir, and hands tests SDK clients for it.
//
//   import { startHearth } from './harness.mjs';
//   const hearth = await startHearth();      // in before()
//   const pb = hearth.client();              // a new SDK client, no auth
//   const alice = await hearth.signUp('alice');
//   const group = await hearth.createGroup(alice, 'Climbers');
//   await hearth.addMember(group.id, bob);   // bob: a signed-in client
//   const err = await rejects(pb.collection('groups').create({}), 400);
//   await hearth.stop();                     // in after()
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import assert from 'node:assert/strict';
import PocketBase, { ClientResponseError } from 'pocketbase';

const here = new URL('.', import.meta.url).pathname;
export const HEARTH_BIN = process.env.HEARTH_BIN || resolve(here, '../bin/hearth');
export const SUPERUSER = { email: 'root@hearth.test', password: 'root-password-123' };
export const PASSWORD = 'password-123456';

/** freePort asks the kernel for an unused loopback port. */
export function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

/**
 * startHearth runs `hearth serve` and resolves once /api/health answers.
 * opts.env adds environment variables; opts.hooksDir points at JS hooks.
 */
export async function startHearth(opts = {}) {
  const dataDir = await mkdtemp(join(tmpdir(), 'hearth-e2e-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = spawn(HEARTH_BIN, ['serve'], {
    env: {
      ...process.env,
      HEARTH_HTTP: `127.0.0.1:${port}`,
      HEARTH_DATA_DIR: dataDir,
      HEARTH_HOOKS_DIR: opts.hooksDir || resolve(here, '../pb_hooks'),
      HEARTH_SUPERUSER_EMAIL: SUPERUSER.email,
      HEARTH_SUPERUSER_PASSWORD: SUPERUSER.password,
      // Tests sign in far faster than the production rate limits allow.
      HEARTH_RATE_LIMITS: 'false',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout.on('data', (d) => { output += d; });
  proc.stderr.on('data', (d) => { output += d; });
  const exited = new Promise((ok) => proc.on('exit', ok));

  /** waitFor polls cond (sync or async) every 50 ms until it is true; throws after ms. */
  async function waitFor(cond, ms, what) {
    const deadline = Date.now() + ms;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`hearth exited with ${proc.exitCode} while waiting for ${what}:\n${output}`);
      if (await cond()) return;
      if (Date.now() > deadline) throw new Error(`no ${what} within ${ms} ms:\n${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const healthy = () => fetch(`${url}/api/health`).then((res) => res.ok, () => false);
  const waitHealthy = () => waitFor(healthy, 30_000, 'healthy server');

  try {
    await waitHealthy();
  } catch (err) {
    proc.kill('SIGKILL');
    await exited;
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }

  let users = 0;
  let root = null;
  const hearth = {
    url,
    dataDir,
    output: () => output,
    waitFor,
    /** waitHealthy resolves once /api/health answers (after a restart, say). */
    waitHealthy,
    /** client returns a new SDK client with its own auth store. */
    client() {
      const pb = new PocketBase(url);
      pb.autoCancellation(false);
      return pb;
    },
    /** superuser returns a client signed in as the configured superuser. */
    async superuser() {
      const pb = hearth.client();
      await pb.collection('_superusers').authWithPassword(SUPERUSER.email, SUPERUSER.password);
      return pb;
    },
    /** signUp creates a user named name (unique per server) and returns its signed-in client. */
    async signUp(name) {
      const pb = hearth.client();
      const email = `${name.toLowerCase()}-${++users}@crews.test`;
      await pb.collection('users').create({ email, name, password: PASSWORD, passwordConfirm: PASSWORD });
      await pb.collection('users').authWithPassword(email, PASSWORD);
      return pb;
    },
    /**
     * signUpMany signs up n users named prefix-1..n concurrently and returns
     * their clients. Each signs in by impersonation (a superuser-issued auth
     * token) rather than by password: bcrypt is the cost of a sign-in, and
     * the tests that need a crowd are about something else; signUp covers
     * the password path.
     */
    async signUpMany(prefix, n) {
      root ??= hearth.superuser();
      const su = await root;
      return Promise.all(Array.from({ length: n }, async (_, i) => {
        const name = `${prefix}-${i + 1}`;
        const email = `${name.toLowerCase()}-${++users}@crews.test`;
        const user = await hearth.client().collection('users').create({ email, name, password: PASSWORD, passwordConfirm: PASSWORD });
        const pb = await su.collection('users').impersonate(user.id, 3600);
        pb.autoCancellation(false);
        return pb;
      }));
    },
    /** createGroup has the signed-in client pb create a group named name. */
    createGroup(pb, name) {
      return pb.collection('groups').create({ name });
    },
    /**
     * addMember makes the signed-in client user a member of groupId with role,
     * as a superuser would from the dashboard: for tests whose subject is not
     * joining.
     */
    async addMember(groupId, user, role = 'member') {
      root ??= hearth.superuser(); // one sign-in shared by concurrent calls
      return (await root).collection('memberships').create({ group: groupId, user: user.authStore.record.id, role });
    },
    async stop() {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await exited;
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return hearth;
}

/**
 * rejects awaits promise, asserts that it fails with a ClientResponseError
 * of the given HTTP status, and returns that error for further checks.
 */
export async function rejects(promise, status) {
  let err;
  try {
    const value = await promise;
    assert.fail(`expected HTTP ${status}, got success: ${JSON.stringify(value)}`);
  } catch (e) {
    if (e?.code === 'ERR_ASSERTION') throw e;
    err = e;
  }
  assert.ok(err instanceof ClientResponseError, `expected a ClientResponseError, got ${err}`);
  assert.equal(err.status, status, `HTTP status (response: ${JSON.stringify(err.response)})`);
  return err;
}

/** userId returns the id of a signed-in client's user. */
export function userId(pb) {
  return pb.authStore.record.id;
}
