// The client package's SqliteStore (clients/js/src/sqlitestore.ts), its
// SQL run on real SQLite files under Node (sqlite-node.mjs): a real
// server's sync into it, 100,000 messages stored and reopened, a process
// killed in the middle of a page, the write queue kept in it, and kept
// when the records cannot be read; nothing left in the file after signing
// out.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import PocketBase from 'pocketbase';
import { startHearth } from './harness.mjs';
import { bigCrew } from './bigstore.mjs';
import { assertMatchesListAPI } from './sync-helpers.mjs';
import { openDatabase } from './sqlite-node.mjs';
import { SqliteStore, SyncClient, WriteQueue, isPending } from '../clients/js/dist/index.js';

let hearth;
let dir;
before(async () => {
  hearth = await startHearth();
  dir = await mkdtemp(join(tmpdir(), 'hearth-sqlite-'));
});
after(async () => {
  await hearth?.stop();
  await rm(dir, { recursive: true, force: true });
});

let files = 0;
const newPath = () => join(dir, `store-${++files}.db`);

test("a real server's sync into the SQLite store: closed, reopened, equal to the list API, nothing to fetch again", { timeout: 120_000 }, async () => {
  const { member, owner, group } = await bigCrew(hearth, 1000);
  const path = newPath();
  let db = openDatabase(path);
  const store = await SqliteStore.open(db);
  const first = await new SyncClient(member, store, { limit: 250 }).sync();
  assert.ok(first.pages >= 4, `${first.pages} pages`);
  await assertMatchesListAPI(member, store);
  const cursor = await store.cursor();
  db.close();

  db = openDatabase(path);
  const reopened = await SqliteStore.open(db);
  assert.equal(await reopened.cursor(), cursor);
  await assertMatchesListAPI(member, reopened);
  const again = await new SyncClient(member, reopened, { limit: 250 }).sync();
  assert.equal(again.changes, 0, 'the reopened store resumes from its cursor');

  // Realtime writes and deletes are rows too.
  const extra = await owner.collection('messages').create({ group: group.id, body: 'one more' });
  await reopened.put('messages', extra);
  const gone = reopened.list('messages')[0];
  await reopened.remove('messages', gone.id);
  db.close();
  db = openDatabase(path);
  const third = await SqliteStore.open(db);
  assert.equal(third.record('messages', extra.id)?.body, 'one more');
  assert.equal(third.record('messages', gone.id), undefined);
  db.close();
});

test('100,000 messages stored page by page, the app closed and reopened: every record intact', { timeout: 300_000 }, async () => {
  const path = newPath();
  let db = openDatabase(path);
  const store = await SqliteStore.open(db);
  const n = 100_000;
  const message = (i) => {
    const id = `m${String(i).padStart(14, '0')}`;
    return {
      id, collectionId: 'pbc_messages', collectionName: 'messages', group: 'g00000000000001', author: 'u00000000000001',
      body: `message ${i}`.padEnd(100, '.'), attachments: [], created: '2026-12-06 04:00:00.000Z', updated: '2026-12-06 04:00:00.000Z',
    };
  };
  for (let p = 0; p < n / 1000; p++) {
    const changes = Array.from({ length: 1000 }, (_, k) => {
      const record = message(p * 1000 + k);
      return { seq: p * 1000 + k + 1, op: 'upsert', collection: 'messages', id: record.id, record };
    });
    await store.applyPage(changes, `cursor-${p}`);
  }
  db.close();

  db = openDatabase(path);
  const reopened = await SqliteStore.open(db);
  assert.equal(await reopened.cursor(), `cursor-${n / 1000 - 1}`);
  const list = reopened.list('messages');
  assert.equal(list.length, n);
  for (let i = 0; i < n; i++) {
    assert.deepEqual(reopened.record('messages', message(i).id), message(i));
  }
  db.close();
});

test('a store killed in the middle of a page reopens as of the last whole page', { timeout: 120_000 }, async () => {
  const path = newPath();
  const child = spawn(process.execPath, [new URL('./sqlite-kill-child.mjs', import.meta.url).pathname, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  await new Promise((ok, fail) => {
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('mid\n')) ok();
    });
    child.on('exit', (code) => fail(new Error(`the child exited (${code}) before the middle of a page:\n${out}`)));
  });
  child.kill('SIGKILL');
  await new Promise((ok) => (child.exitCode !== null || child.signalCode !== null ? ok() : child.on('exit', ok)));
  assert.match(out, /page 4\n/);
  assert.doesNotMatch(out, /page 5\n/);
  assert.ok(existsSync(`${path}-journal`), 'the kill left a half-written page in the file (a hot journal)');

  // The phone's SQLite, opening the file, rolls the half-written page
  // back from the journal; node-sqlite3-wasm's file locking does not (it
  // takes its own lock for another's and never sees the journal as hot),
  // so Debian's sqlite3 opens the file first, as the phone would.
  const check = spawnSync('sqlite3', [path, 'PRAGMA integrity_check'], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stderr);
  assert.equal(check.stdout.trim(), 'ok');
  assert.ok(!existsSync(`${path}-journal`), 'the journal was rolled back');

  const db = openDatabase(path);
  const store = await SqliteStore.open(db);
  assert.equal(await store.cursor(), 'c4');
  const bodies = new Set(store.list('messages').map((r) => r.body.replace(/\.+$/, '').trim()));
  assert.equal(store.list('messages').length, 2000);
  assert.deepEqual([...bodies], ['page 4'], 'every record as of the page of the cursor');
  db.close();
});

test('the write queue is kept in the SQLite store: pending writes and refusals survive a restart', async () => {
  const path = newPath();
  let db = openDatabase(path);
  // A server that is never reached: the queue stores and keeps waiting.
  const pb = new PocketBase('http://127.0.0.1:9');
  const store = await SqliteStore.open(db);
  const queue = new WriteQueue(pb, store, { retryMs: [60_000] });
  const id = await queue.create('messages', { group: 'g00000000000001', body: 'hello' }, { attachments: [new File(['hi'], 'a.txt', { type: 'text/plain' })] });
  await queue.update('messages', id, { body: 'hello again' });
  await queue.stop();
  assert.ok(isPending(store.record('messages', id)));
  await store.refuse(store.writes()[1], { status: 403, message: 'no', errors: {} });
  db.close();

  db = openDatabase(path);
  const reopened = await SqliteStore.open(db);
  assert.deepEqual(reopened.writes().map((w) => [w.op, w.id, w.files.map((f) => [f.name, f.base64])]), [['create', id, [['a.txt', 'aGk=']]]]);
  assert.deepEqual(reopened.refusals().map((r) => [r.op, r.status, r.data.body]), [['update', 403, 'hello again']]);
  assert.equal(reopened.record('messages', id).body, 'hello', 'the refused update is no longer shown');
  assert.ok(isPending(reopened.record('messages', id)));
  db.close();
});

test('records that cannot be read are dropped and synced again; the queue and the refusals are kept, and the queued post is sent', async () => {
  const { member, group } = await bigCrew(hearth, 20);
  const path = newPath();
  let db = openDatabase(path);
  const store = await SqliteStore.open(db);
  const start = await store.cursor();
  await new SyncClient(member, store).sync();
  assert.equal(store.list('messages').length, 20);
  assert.notEqual(await store.cursor(), start);
  // Offline (a server never reached): a post queued, another write refused.
  const offline = new WriteQueue(new PocketBase('http://127.0.0.1:9'), store, { retryMs: [60_000] });
  const id = await offline.create('messages', { group: group.id, body: 'written in the tunnel' });
  await offline.update('messages', store.list('messages').find((m) => !isPending(m)).id, { body: 'edited' });
  await offline.stop();
  await store.refuse(store.writes()[1], { status: 403, message: 'no', errors: {} });
  db.close();

  // One record row damaged: its body no longer JSON.
  db = openDatabase(path);
  await db.runAsync("UPDATE hearth_records SET body = '{\"id\": broken' WHERE id = (SELECT id FROM hearth_records WHERE id != ? LIMIT 1)", [id]);
  db.close();

  db = openDatabase(path);
  const reopened = await SqliteStore.open(db);
  assert.equal(await reopened.cursor(), start, 'the records dropped, synced again from the start');
  assert.deepEqual(reopened.writes().map((w) => [w.op, w.id, w.data.body]), [['create', id, 'written in the tunnel']]);
  assert.deepEqual(reopened.refusals().map((r) => [r.op, r.status, r.data.body]), [['update', 403, 'edited']]);
  assert.deepEqual(reopened.list('messages').map((m) => [m.id, m.body, isPending(m)]), [[id, 'written in the tunnel', true]], 'only the queued post is shown');
  assert.deepEqual(await db.getAllAsync('SELECT id FROM hearth_records', []), [{ id }], 'the damaged rows are gone from the file');

  // Online: the post is sent once, and a sync from the start brings the
  // records back, equal to the list API.
  await new WriteQueue(member, reopened).flush();
  assert.deepEqual(reopened.writes(), []);
  await new SyncClient(member, reopened).sync();
  await assertMatchesListAPI(member, reopened);
  assert.equal(reopened.list('messages').length, 21);
  assert.equal((await member.collection('messages').getFullList({ filter: `body = "written in the tunnel"` })).length, 1);
  db.close();
});

test('signing out (destroy) leaves none of the records\' text in the file', async () => {
  const path = newPath();
  const db = openDatabase(path);
  const store = await SqliteStore.open(db);
  for (let i = 0; i < 50; i++) {
    await store.put('messages', { id: `m${String(i).padStart(14, '0')}`, collectionId: 'c', collectionName: 'messages', body: `private note ${i}`.padEnd(100, '.') });
  }
  assert.match(await readFile(path, 'latin1'), /private note 7/);
  await store.destroy();
  db.close();
  assert.doesNotMatch(await readFile(path, 'latin1'), /private note/, 'the deleted rows are not left in free pages');
});
