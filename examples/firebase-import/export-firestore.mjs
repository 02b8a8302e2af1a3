// Writes a Firestore database as newline-delimited JSON, one document per
// line with its full path, in the encoding `hearth import firebase
// firestore` reads (node-firestore-import-export's, for timestamps,
// geopoints and references), and the project's users as
// `firebase auth:export` writes them, plus the Apple identities that
// auth:export leaves out.
//
//   npm install firebase-admin@13
//   GOOGLE_APPLICATION_CREDENTIALS=service-account.json node export-firestore.mjs firestore.ndjson users.json
//
// Documents stream to the file collection by collection, subcollections
// included at any depth (listCollections on each document), so the
// export's size is bounded by the disk, not by memory. Not run by the
// tests: it needs a live Firebase project.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import admin from 'firebase-admin';
import { Timestamp, GeoPoint, DocumentReference } from 'firebase-admin/firestore';

const [docsFile = 'firestore.ndjson', usersFile = 'users.json'] = process.argv.slice(2);
admin.initializeApp();
const db = admin.firestore();

function encode(v) {
  if (v instanceof Timestamp) return { __datatype__: 'timestamp', value: { _seconds: v.seconds, _nanoseconds: v.nanoseconds } };
  if (v instanceof GeoPoint) return { __datatype__: 'geopoint', value: { _latitude: v.latitude, _longitude: v.longitude } };
  if (v instanceof DocumentReference) return { __datatype__: 'documentReference', value: v.path };
  if (Array.isArray(v)) return v.map(encode);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, encode(e)]));
  return v;
}

async function write(out, line) {
  if (!out.write(line + '\n')) await once(out, 'drain');
}

async function exportCollection(out, ref) {
  let last = null;
  for (;;) {
    let q = ref.orderBy('__name__').limit(500);
    if (last) q = q.startAfter(last);
    const page = await q.get();
    for (const doc of page.docs) {
      await write(out, JSON.stringify({ path: doc.ref.path, data: encode(doc.data()) }));
      for (const sub of await doc.ref.listCollections()) await exportCollection(out, sub);
    }
    if (page.size < 500) return;
    last = page.docs[page.size - 1];
  }
}

const docs = createWriteStream(docsFile);
for (const c of await db.listCollections()) await exportCollection(docs, c);
docs.end();

// listUsers gives the scrypt hash and salt (URL-safe base64, which the
// importer accepts) and every provider, Apple's included.
const users = createWriteStream(usersFile);
await write(users, '{"users": [');
let token, sep = '';
do {
  const page = await admin.auth().listUsers(1000, token);
  for (const u of page.users) {
    await write(users, sep + JSON.stringify({
      localId: u.uid, email: u.email, emailVerified: u.emailVerified, displayName: u.displayName,
      passwordHash: u.passwordHash, salt: u.passwordSalt, disabled: u.disabled,
      createdAt: String(Date.parse(u.metadata.creationTime)),
      customAttributes: u.customClaims ? JSON.stringify(u.customClaims) : undefined,
      providerUserInfo: u.providerData.map((p) => ({ providerId: p.providerId, rawId: p.uid, email: p.email, displayName: p.displayName })),
    }));
    sep = ',\n';
  }
  token = page.pageToken;
} while (token);
await write(users, ']}');
users.end();
