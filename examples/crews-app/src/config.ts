// Where the Hearth server is. A phone build reads EXPO_PUBLIC_HEARTH_URL
// (Expo inlines EXPO_PUBLIC_ variables at build time; a phone reaches your
// computer at its LAN address, not 127.0.0.1). The web build reads
// globalThis.HEARTH_URL, set by web/config.js, which the server of the web
// build writes, so one build runs against any server.
declare const process: { env: { EXPO_PUBLIC_HEARTH_URL?: string } };

export function serverUrl(): string {
  const web = (globalThis as { HEARTH_URL?: string }).HEARTH_URL;
  return web || process.env.EXPO_PUBLIC_HEARTH_URL || 'http://127.0.0.1:8090';
}
