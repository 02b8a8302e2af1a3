// The web build: App through react-native-web, bundled by esbuild into
// web-build/ (index.html, config.js, app.js), with expo-sqlite's web worker
// (sqlite-worker.js) and its wa-sqlite wasm, so the web build keeps its
// store in SQLite as the phones do (on the browser's OPFS). esbuild rather
// than `expo export --platform web` (Metro): it needs no network and no
// Babel, bundles in seconds on a small CI machine, and react-native-web is
// all the web needs; the components are the ones a phone build runs. The
// page must be served cross-origin isolated (web/headers.mjs).
//
//   node web/build.mjs            # web-build/, server http://127.0.0.1:8090
//   HEARTH_URL=https://crews.example.com node web/build.mjs
import { build } from 'esbuild';
import { copyFile, mkdir, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configScript } from './config.mjs';
import { SQLITE_WORKER, headersFile } from './headers.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(root, 'web-build');

// @crews/hearth-client is a link to ../../clients/js, whose node_modules
// holds the package's dev dependencies (pocketbase, react). Its imports of
// packages resolve from the app instead, so the bundle has one copy of
// each (metro.config.js does the same for the phone bundles).
const client = await realpath(join(root, 'node_modules/@crews/hearth-client'));
const clientPeersFromApp = {
  name: 'client-peers-from-app',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.pluginData?.fromApp || !args.importer.startsWith(client + sep)) {
        return undefined;
      }
      return b.resolve(args.path, { kind: args.kind, resolveDir: root, pluginData: { fromApp: true } });
    });
  },
};

// expo-sqlite on the web runs SQLite in a worker it starts with
// `new Worker(new URL('./worker', window.location.href))`: Metro's web
// export rewrites that into a bundle of its own, esbuild does not. The
// worker is built below as sqlite-worker.js, and this plugin points the
// call at it, from the site's root (the app is also loaded at
// /join/<code>, where './worker' would be /join/worker). The build fails
// when expo-sqlite no longer has that line: then read its web/ folder again.
const requireFromApp = createRequire(join(root, 'package.json'));
const sqliteDir = dirname(requireFromApp.resolve('expo-sqlite/package.json'));
const WORKER_CALL = "new Worker(new URL('./worker', window.location.href))";
const sqliteWorkerUrl = {
  name: 'expo-sqlite-worker-url',
  setup(b) {
    b.onLoad({ filter: /expo-sqlite[\\/]web[\\/]SQLiteModule\.ts$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      if (source.split(WORKER_CALL).length !== 2) {
        throw new Error(`web build: ${args.path} no longer starts its worker with ${WORKER_CALL}`);
      }
      return { contents: source.replace(WORKER_CALL, `new Worker(new URL(${JSON.stringify('/' + SQLITE_WORKER)}, window.location.href))`), loader: 'ts' };
    });
  },
};

// expo-sqlite imports expo-asset, which npm installed under expo's own
// node_modules (expo pins its version); Expo's Metro config finds the
// expo-* packages expo brings there, so this does too, for an expo-*
// import the app's node_modules lacks.
const expoDir = dirname(requireFromApp.resolve('expo/package.json'));
const expoDependencies = {
  name: 'expo-dependencies',
  setup(b) {
    b.onResolve({ filter: /^expo-/ }, async (args) => {
      if (args.pluginData?.fromExpo) {
        return undefined;
      }
      const found = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: { fromExpo: true } });
      if (found.errors.length === 0) {
        return found;
      }
      return b.resolve(args.path, { kind: args.kind, resolveDir: expoDir, pluginData: { fromExpo: true } });
    });
  },
};

await rm(OUT, { recursive: true, force: true });
await mkdir(OUT, { recursive: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: { app: 'web/index.tsx' },
  outdir: OUT,
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2020',
  jsx: 'automatic',
  // The web's react-native, and its platform files before the others.
  alias: { 'react-native': 'react-native-web' },
  resolveExtensions: ['.web.tsx', '.web.ts', '.web.js', '.tsx', '.ts', '.js', '.json'],
  mainFields: ['browser', 'module', 'main'],
  plugins: [clientPeersFromApp, sqliteWorkerUrl, expoDependencies],
  // React Native libraries ship JSX in .js files.
  loader: { '.js': 'jsx' },
  define: {
    'process.env.NODE_ENV': '"production"',
    'process.env.EXPO_PUBLIC_HEARTH_URL': 'undefined',
    __DEV__: 'false',
    global: 'globalThis',
  },
  logLevel: 'warning',
  metafile: true,
});
const strays = Object.keys(result.metafile.inputs).filter((p) => p.includes('hearth-client/node_modules/') || p.includes('clients/js/node_modules/'));
if (strays.length) {
  throw new Error(`web build: the client package's own dependencies were bundled: ${strays.join(', ')}`);
}
// The worker: a classic script (expo-sqlite starts it without
// { type: 'module' }), and the wasm its wa-sqlite loads by the URL the
// import gives (esbuild's file loader: a hashed file beside it).
const worker = await build({
  absWorkingDir: root,
  entryPoints: [join(sqliteDir, 'web/worker.ts')],
  outfile: join(OUT, SQLITE_WORKER),
  bundle: true,
  minify: true,
  format: 'iife',
  target: 'es2020',
  loader: { '.wasm': 'file' },
  assetNames: '[name]-[hash]',
  publicPath: '/',
  logLevel: 'warning',
  metafile: true,
});
await copyFile(join(root, 'web/index.html'), join(OUT, 'index.html'));
await writeFile(join(OUT, '_headers'), headersFile());
await writeFile(join(OUT, 'config.js'), configScript(process.env.HEARTH_URL || 'http://127.0.0.1:8090'));

const outputs = { ...result.metafile.outputs, ...worker.metafile.outputs };
const bytes = Object.values(outputs).reduce((n, o) => n + o.bytes, 0);
console.log(`web-build/: app.js ${(await stat(join(OUT, 'app.js'))).size} bytes (${bytes} bytes of output: ${Object.keys(outputs).map((p) => p.split('/').pop()).join(', ')})`);
