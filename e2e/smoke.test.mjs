import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHearth } from './harness.mjs';

let hearth;
before(async () => { hearth = await startHearth(); });
after(() => hearth?.stop());

test('health and dashboard are served', async () => {
  const health = await hearth.client().health.check();
  assert.equal(health.code, 200);
  const res = await fetch(`${hearth.url}/_/`);
  assert.equal(res.status, 200);
  assert.match(await res.text(), /<html/i);
});
