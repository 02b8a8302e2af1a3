// Measures the client's SQLite store with a large crew: time and peak
// memory (max RSS of the process) to sync N messages from a real server
// into a SqliteStore on a file, and to reopen it (a cold start of the
// app). Not a test: run by hand, numbers go to docs/sync.md.
//
//   make build client-js e2e-deps sqlite3
//   cd e2e && node measure-store.mjs 100000
//
// The messages are written into a stopped server's data.db with Debian's
// sqlite3 (sending 100,000 through the API takes about 9 minutes here);
// then the server starts on that data and the member joins the crew, and
// their first sync is the join's expansion: every message of the crew.
// Each measured step runs in a child process of its own, so that its peak
// memory is its own.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import PocketBase from 'pocketbase';
import { SqliteStore, SyncClient } from '../clients/js/dist/index.js';
import { openDatabase } from './sqlite-node.mjs';
import { startHearth, PASSWORD } from './harness.mjs';

const [, self, mode, ...args] = process.argv;

if (mode === 'sync') {
  const [url, token, path] = args;
  const pb = new PocketBase(url);
  pb.autoCancellation(false);
  pb.authStore.save(token, null);
  const t = performance.now();
  const db = openDatabase(path);
  const store = await SqliteStore.open(db);
  const result = await new SyncClient(pb, store, { limit: 1000 }).sync();
  const ms = performance.now() - t;
  report({ ms, pages: result.pages, messages: store.list('messages').length });
  db.close();
} else if (mode === 'reopen') {
  const [path] = args;
  const t = performance.now();
  const db = openDatabase(path);
  const store = await SqliteStore.open(db);
  const ms = performance.now() - t;
  report({ ms, messages: store.list('messages').length });
  db.close();
} else {
  await measure(Number(mode ?? 100000));
}

function report(r) {
  process.stdout.write(JSON.stringify({ ...r, maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024) }) + '\n');
}

function child(...argv) {
  return new Promise((ok, fail) => {
    const p = spawn(process.execPath, [self, ...argv], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.on('exit', (code) => (code === 0 ? ok(JSON.parse(out)) : fail(new Error(`${argv[0]} exited ${code}`))));
  });
}

async function measure(n) {
  const dir = await mkdtemp(join(tmpdir(), 'hearth-measure-'));
  try {
    let hearth = await startHearth({ env: { HEARTH_DATA_DIR: dir } });
    const [owner, member] = await hearth.signUpMany('Measure', 2);
    const group = await owner.collection('groups').create({ name: 'Big crew' });
    const memberEmail = member.authStore.record.email;
    await hearth.stop();

    const t = Date.now();
    const sql = `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${n})
      INSERT INTO messages (id, "group", author, body, attachments, created, updated)
      SELECT printf('m%014d', i), '${group.id}', '${owner.authStore.record.id}', substr(printf('message %d', i) || '${'.'.repeat(100)}', 1, 100), '[]',
             strftime('%Y-%m-%d %H:%M:%fZ', 'now'), strftime('%Y-%m-%d %H:%M:%fZ', 'now') FROM n;`;
    const seeded = spawnSync('sqlite3', [join(dir, 'data.db'), sql], { encoding: 'utf8' });
    if (seeded.status !== 0) throw new Error(seeded.stderr);
    console.error(`seeded ${n} messages in ${Date.now() - t} ms`);

    hearth = await startHearth({ env: { HEARTH_DATA_DIR: dir } });
    await hearth.addMember(group.id, member);
    const pb = hearth.client();
    await pb.collection('users').authWithPassword(memberEmail, PASSWORD).catch(async () => {
      // signUpMany's users sign in by impersonation; a fresh token the same way.
      const su = await hearth.superuser();
      const imp = await su.collection('users').impersonate(member.authStore.record.id, 3600);
      pb.authStore.save(imp.authStore.token, imp.authStore.record);
    });
    const path = join(dir, 'store.db');
    const synced = await child('sync', hearth.url, pb.authStore.token, path);
    const reopened = await child('reopen', path);
    const size = (await stat(path)).size;
    console.log(JSON.stringify({ messages: n, sync: synced, reopen: reopened, storeFileMB: +(size / 1048576).toFixed(1) }));
    await hearth.stop();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
