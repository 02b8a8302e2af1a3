// The process sqlite-store.test.mjs kills in the middle of a page: it
// syncs pages into a SqliteStore at argv[2], each page rewriting the same
// 2,000 records with its number and moving the cursor to it, and from
// page 5 on, halfway through writing a page's rows, says "mid" on stdout
// and waits to be killed.
import { SqliteStore } from '../clients/js/dist/index.js';
import { openDatabase } from './sqlite-node.mjs';

const ROWS = 2000;
const db = openDatabase(process.argv[2]);
// A page cache of 16 pages: the rows of a page reach the file before the
// page commits (a phone short of memory does the same), so the kill
// leaves a half-written page in it for the journal to undo.
await db.execAsync('PRAGMA cache_size = 16');
let rows = 0;
let page = 0;
const run = db.runAsync;
db.runAsync = async (sql, params) => {
  if (page >= 5 && sql.startsWith('INSERT OR REPLACE INTO hearth_records') && ++rows === ROWS / 2) {
    process.stdout.write('mid\n');
    setInterval(() => {}, 1000);
    await new Promise(() => {});
  }
  return run(sql, params);
};
const store = await SqliteStore.open(db);
for (page = 1; ; page++) {
  const changes = [];
  for (let i = 0; i < ROWS; i++) {
    const id = `r${String(i).padStart(14, '0')}`;
    changes.push({ seq: page, op: 'upsert', collection: 'messages', id, record: { id, collectionName: 'messages', body: `page ${page} `.padEnd(400, '.') } });
  }
  await store.applyPage(changes, `c${page}`);
  process.stdout.write(`page ${page}\n`);
}
