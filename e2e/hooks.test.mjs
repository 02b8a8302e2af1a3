// The JS hooks in pb_hooks, through the real binary: the message guard's
// settings from the environment and from pb_hooks/message_guard.json, its
// fail-fast on a bad setting, and a hot reload in dev mode after the JSON
// file is edited (no rebuild, no manual restart).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { rejects, startHearth } from './harness.mjs';

const HOOKS = resolve(new URL('.', import.meta.url).pathname, '../pb_hooks');

describe('message guard configured by environment', () => {
  let hearth, alice, group;
  before(async () => {
    hearth = await startHearth({ env: { HEARTH_BLOCKED_WORDS: 'spam,scam', HEARTH_MESSAGE_MAX_LENGTH: '40' } });
    alice = await hearth.signUp('Alice');
    group = await hearth.createGroup(alice, 'Climbers');
  });
  after(() => hearth?.stop());

  test('a blocked word is refused with a 400 naming body', async () => {
    const err = await rejects(alice.collection('messages').create({ group: group.id, body: 'Cheap SPAM here!' }), 400);
    assert.equal(err.response.data.body.code, 'validation_blocked_word');
    assert.match(err.response.data.body.message, /spam/);
    const edit = await alice.collection('messages').create({ group: group.id, body: 'spammers are words too' });
    await rejects(alice.collection('messages').update(edit.id, { body: 'a scam' }), 400);
    assert.equal((await alice.collection('messages').getOne(edit.id)).body, 'spammers are words too');
  });

  test('the length guard counts characters', async () => {
    await alice.collection('messages').create({ group: group.id, body: '🧗'.repeat(40) });
    const err = await rejects(alice.collection('messages').create({ group: group.id, body: '🧗'.repeat(41) }), 400);
    assert.equal(err.response.data.body.code, 'validation_max_text_constraint');
  });
});

describe('message guard hot reload in dev mode', () => {
  let hearth, hooksDir, alice, group;
  before(async () => {
    hooksDir = await mkdtemp(join(tmpdir(), 'hearth-hooks-'));
    await cp(HOOKS, hooksDir, { recursive: true });
    hearth = await startHearth({ hooksDir, env: { HEARTH_DEV: 'true' } });
    alice = await hearth.signUp('Alice');
    group = await hearth.createGroup(alice, 'Climbers');
  });
  after(async () => {
    await hearth?.stop();
    await rm(hooksDir, { recursive: true, force: true });
  });

  test('editing message_guard.json takes effect without a rebuild', async () => {
    await alice.collection('messages').create({ group: group.id, body: 'darn, rain again' });

    const configFile = join(hooksDir, 'message_guard.json');
    const config = JSON.parse(await readFile(configFile, 'utf8'));
    config.blocked_words = ['darn'];
    const starts = hearth.output().split('Server started').length;
    await writeFile(configFile, JSON.stringify(config));

    // Dev mode watches pb_hooks and restarts the process in place (execve):
    // wait for the next "Server started" and a healthy server (bounded).
    await hearth.waitFor(() => hearth.output().split('Server started').length > starts, 20_000, 'a restart');
    await hearth.waitHealthy();

    const err = await rejects(alice.collection('messages').create({ group: group.id, body: 'Darn.' }), 400);
    assert.equal(err.response.data.body.code, 'validation_blocked_word');
  });
});

test('a bad setting stops the server at start, naming it', async () => {
  await assert.rejects(startHearth({ env: { HEARTH_MESSAGE_MAX_LENGTH: 'ten' } }), /HEARTH_MESSAGE_MAX_LENGTH/);
});
