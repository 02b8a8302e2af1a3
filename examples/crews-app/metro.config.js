// Metro, Expo's bundler for phones, as Expo configures it, told about the
// client package. The app installs @crews/hearth-client as a link to
// ../../clients/js (package.json: "file:../../clients/js"), as an app in a
// monorepo does; Metro only sees files under the project root unless told,
// and without this file a phone bundle stops at "Unable to resolve module
// @crews/hearth-client".
//
// - watchFolders: Metro may read (and, in `expo start`, watch) the package.
// - blockList: the package's own node_modules (its dev dependencies:
//   pocketbase, react, typescript) are invisible, so that its imports of
//   pocketbase and react resolve to the app's copies below; two copies of
//   the SDK would mean two auth stores, two of React would break hooks.
// - nodeModulesPaths: where those imports resolve instead: the app's.
const path = require('path');
const { getDefaultConfig } = require('expo/metro-config');

const app = __dirname;
const client = path.resolve(app, '../../clients/js');
const escape = (s) => s.replace(/[/\\^$*+?.()|[\]{}]/g, '\\$&');

const config = getDefaultConfig(app);
config.watchFolders = [client];
config.resolver.nodeModulesPaths = [path.join(app, 'node_modules')];
config.resolver.blockList = [new RegExp(`^${escape(path.join(client, 'node_modules'))}[/\\\\].*`)];

module.exports = config;
