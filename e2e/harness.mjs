// The e2e harness: starts the real hearth binary on a free loopback port with
// a fresh data dir, and hands tests SDK clients for it.
//
//   import { startHearth } from './harness.mjs';
//   const hearth = await startHearth();      // in before()
//   const pb = hearth.client();              // a new SDK client, no auth
//   const alice = await hearth.signUp('alice');
//   await hearth.stop();                     // in after()
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import PocketBase from 'pocketbase';

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

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`hearth exited with ${proc.exitCode}:\n${output}`);
    try {
      const res = await fetch(`${url}/api/health`);
      if (res.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`hearth did not become healthy in 30s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  let users = 0;
  const hearth = {
    url,
    dataDir,
    output: () => output,
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
