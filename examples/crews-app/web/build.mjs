// The web build: App through react-native-web, bundled by esbuild into
// web-build/ (index.html, config.js, app.js). esbuild rather than
// `expo export --platform web` (Metro): it needs no network and no Babel,
// bundles in seconds on a small CI machine, and react-native-web is all the
// web needs; the components are the ones a phone build runs.
//
//   node web/build.mjs            # web-build/, server http://127.0.0.1:8090
//   HEARTH_URL=https://crews.example.com node web/build.mjs
import { build } from 'esbuild';
import { copyFile, mkdir, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configScript } from './config.mjs';

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
  plugins: [clientPeersFromApp],
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
await copyFile(join(root, 'web/index.html'), join(OUT, 'index.html'));
await writeFile(join(OUT, 'config.js'), configScript(process.env.HEARTH_URL || 'http://127.0.0.1:8090'));

const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
console.log(`web-build/: app.js ${(await stat(join(OUT, 'app.js'))).size} bytes (${bytes} bytes of output)`);
