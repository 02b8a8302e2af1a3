// Checks the phone bundles that `expo export --source-maps` wrote into dir
// (make test-metro): each platform's bundle holds the client package, read
// through its link (../../clients/js/dist), expo-sqlite's native module
// and none of its web worker, and exactly one copy of each
// package the app and the client share, the app's. A second pocketbase
// would be a second auth store and realtime connection; a second React
// breaks every hook.
//
//   node scripts/check-bundles.mjs dist-phone
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

const SHARED = ['pocketbase', 'react'];
const dir = process.argv[2];
if (!dir) {
  console.error('usage: node scripts/check-bundles.mjs <expo export output dir>');
  process.exit(2);
}

const root = join(dir, '_expo/static/js');
const problems = [];
let checked = 0;
for (const platform of await readdir(root)) {
  const files = await readdir(join(root, platform));
  const bundle = files.find((f) => /\.(hbc|js)$/.test(f));
  const map = files.find((f) => f.endsWith('.map'));
  if (!bundle || !map) {
    problems.push(`${platform}: no bundle and source map in ${join(root, platform)}`);
    continue;
  }
  const { sources } = JSON.parse(await readFile(join(root, platform, map), 'utf8'));
  if (!sources.some((s) => s.includes('clients/js/dist/'))) {
    problems.push(`${platform}: the client package (clients/js/dist) is not in the bundle`);
  }
  for (const s of sources.filter((s) => s.includes('clients/js/node_modules/'))) {
    problems.push(`${platform}: ${s} comes from the client package's own dependencies`);
  }
  // The phones' SQLite is expo-sqlite's native module: its web worker and
  // wa-sqlite (expo-sqlite/web/, which web/build.mjs builds) are the web's.
  if (!sources.some((s) => s.includes('node_modules/expo-sqlite/build/'))) {
    problems.push(`${platform}: expo-sqlite (the store) is not in the bundle`);
  }
  for (const s of sources.filter((s) => s.includes('node_modules/expo-sqlite/web/'))) {
    problems.push(`${platform}: ${s} is expo-sqlite's web implementation`);
  }
  const copies = [];
  for (const pkg of SHARED) {
    // A package's copy is the path up to its folder in a node_modules.
    const roots = new Set(sources.flatMap((s) => {
      const at = s.lastIndexOf(`node_modules/${pkg}/`);
      return at < 0 ? [] : [s.slice(0, at + `node_modules/${pkg}/`.length)];
    }));
    if (roots.size !== 1) {
      problems.push(`${platform}: ${roots.size} copies of ${pkg}: ${[...roots].join(', ') || 'none'}`);
    }
    copies.push(`${pkg} ${[...roots].join(', ')}`);
  }
  const size = (await stat(join(root, platform, bundle))).size;
  console.log(`${platform}: ${bundle} ${size} bytes, ${sources.length} modules; one copy each: ${copies.join('; ')}`);
  checked++;
}
if (checked === 0) {
  problems.push(`no platform bundles in ${root}`);
}
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
