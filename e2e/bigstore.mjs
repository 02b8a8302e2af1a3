// A crew with many messages, for the store tests and the store
// measurement: n messages sent in batches of 500 (one transaction each),
// two batches at a time.
//
//   const { group, member } = await bigCrew(hearth, 100_000);
//   // member: a signed-in client of a member who has not synced yet
export async function bigCrew(hearth, n) {
  const su = await hearth.superuser();
  await su.settings.update({ batch: { enabled: true, maxRequests: 500, timeout: 120 } });
  const [owner, member] = await hearth.signUpMany('Crowd', 2);
  const group = await owner.collection('groups').create({ name: 'Crowd' });
  await hearth.addMember(group.id, member);
  const batches = [];
  for (let i = 0; i < n; i += 500) batches.push([i, Math.min(i + 500, n)]);
  const send = async () => {
    for (let b = batches.shift(); b; b = batches.shift()) {
      const batch = owner.createBatch();
      // 100 characters, the size the issue measured AsyncStorage with.
      for (let i = b[0]; i < b[1]; i++) batch.collection('messages').create({ group: group.id, body: `message ${i}`.padEnd(100, '.') });
      await batch.send({ requestKey: null });
    }
  };
  await Promise.all([send(), send()]);
  return { group, owner, member };
}
