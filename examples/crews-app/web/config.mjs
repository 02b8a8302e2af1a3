// config.js of the web build: where the app finds its Hearth server
// (src/config.ts reads globalThis.HEARTH_URL).

/** configScript returns config.js for a server at url. */
export function configScript(url) {
  return `globalThis.HEARTH_URL = ${JSON.stringify(url)};\n`;
}
