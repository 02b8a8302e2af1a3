// Checks that the native projects a development or release build makes
// from app.json open the invite links the app shares (src/links.ts:
// https://<server>/join/<code>): the iOS entitlement lists
// applinks:<server's host>, and the Android manifest has a verified
// (autoVerify) VIEW filter for https://<host>/join/. The server is the
// one eas.json's release profiles point the app at, so that app.json and
// eas.json cannot name two hosts. It reads what Expo's prebuild would
// write (`expo config --type introspect`), not app.json itself.
//
//   node scripts/check-links.mjs     (make test-metro)
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const eas = JSON.parse(readFileSync('eas.json', 'utf8'));
const hosts = new Set(
  Object.values(eas.build)
    .map((p) => p.env?.EXPO_PUBLIC_HEARTH_URL)
    .filter(Boolean)
    .map((u) => new URL(u).host),
);
const problems = [];
if (hosts.size !== 1) {
  problems.push(`eas.json: the builds name ${hosts.size} servers (${[...hosts].join(', ')}), the links one`);
}
const [host] = hosts;

const config = JSON.parse(
  execFileSync('npx', ['expo', 'config', '--type', 'introspect', '--json'], {
    encoding: 'utf8',
    env: { ...process.env, EXPO_OFFLINE: '1', EXPO_NO_TELEMETRY: '1' },
  }),
);
const mods = config._internal.modResults;

const domains = mods.ios.entitlements['com.apple.developer.associated-domains'] ?? [];
if (!domains.includes(`applinks:${host}`)) {
  problems.push(`ios: associated domains ${JSON.stringify(domains)} lack applinks:${host}`);
}

const filters = mods.android.manifest.manifest.application[0].activity[0]['intent-filter'] ?? [];
const verified = filters.some(
  (f) =>
    f.$?.['android:autoVerify'] === 'true' &&
    f.action?.some((a) => a.$['android:name'] === 'android.intent.action.VIEW') &&
    ['DEFAULT', 'BROWSABLE'].every((c) => f.category?.some((x) => x.$['android:name'] === `android.intent.category.${c}`)) &&
    f.data?.some((d) => d.$['android:scheme'] === 'https' && d.$['android:host'] === host && d.$['android:pathPrefix'] === '/join/'),
);
if (!verified) {
  problems.push(`android: no autoVerify VIEW intent filter for https://${host}/join/ in the manifest`);
}

if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`invite links: ios applinks:${host}, android https://${host}/join/ (autoVerify)`);
