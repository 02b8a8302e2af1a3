// The client package's SqliteStore runs on expo-sqlite in the app; under
// Node the same SQL runs on node-sqlite3-wasm (SQLite compiled to
// WebAssembly, on real files, with a rollback journal), through this
// adapter with expo-sqlite's async shape (SqliteDatabase in
// clients/js/src/sqlitestore.ts).
//
//   const db = openDatabase(path);
//   const store = await SqliteStore.open(db);
//   db.close();
import { rmSync } from 'node:fs';
import sqlite from 'node-sqlite3-wasm';

/**
 * openDatabase opens (or creates) the SQLite file at path. node-sqlite3-wasm
 * locks a file with a directory beside it (path.lock), which a killed
 * process leaves behind; the tests open a file only after its last user
 * ended, so a left lock is removed, as the OS drops a dead process's locks
 * on a phone.
 */
export function openDatabase(path) {
  rmSync(`${path}.lock`, { recursive: true, force: true });
  const db = new sqlite.Database(path);
  return {
    async execAsync(sql) {
      db.exec(sql);
    },
    async runAsync(sql, params) {
      return db.run(sql, params);
    },
    async getAllAsync(sql, params) {
      return db.all(sql, params);
    },
    // As expo-sqlite's: BEGIN, the task, COMMIT; ROLLBACK when it throws.
    async withTransactionAsync(task) {
      db.exec('BEGIN');
      try {
        await task();
        db.exec('COMMIT');
      } catch (err) {
        db.exec('ROLLBACK');
        throw err;
      }
    },
    close() {
      db.close();
    },
  };
}
