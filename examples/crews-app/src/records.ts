// What the screens read from the local store, typed with the generated
// record types.
import type {
  CollectionName,
  CollectionRecords,
  EventsRecord,
  GroupsRecord,
  LiveSync,
  MembershipsRecord,
  MessagesRecord,
  RsvpsRecord,
  UsersRecord,
} from '@crews/hearth-client';

export function list<N extends CollectionName>(live: LiveSync, name: N): CollectionRecords[N][] {
  return live.store.list(name) as unknown as CollectionRecords[N][];
}

const byCreated = (a: { created: string }, b: { created: string }) => a.created.localeCompare(b.created);

/** The user's groups, by name, with their role in each. */
export function myGroups(live: LiveSync, user: string): Array<{ group: GroupsRecord; role: MembershipsRecord['role'] }> {
  const groups = new Map(list(live, 'groups').map((g) => [g.id, g]));
  return list(live, 'memberships')
    .filter((m) => m.user === user && groups.has(m.group))
    .map((m) => ({ group: groups.get(m.group)!, role: m.role }))
    .sort((a, b) => a.group.name.localeCompare(b.group.name));
}

export function membership(live: LiveSync, group: string, user: string): MembershipsRecord | undefined {
  return list(live, 'memberships').find((m) => m.group === group && m.user === user);
}

export function messagesOf(live: LiveSync, group: string): MessagesRecord[] {
  return list(live, 'messages').filter((m) => m.group === group).sort(byCreated);
}

export function eventsOf(live: LiveSync, group: string): EventsRecord[] {
  return list(live, 'events')
    .filter((e) => e.group === group)
    .sort((a, b) => a.starts_at.localeCompare(b.starts_at));
}

export function rsvpsOf(live: LiveSync, event: string): RsvpsRecord[] {
  return list(live, 'rsvps').filter((r) => r.event === event);
}

/** The place of rsvp in its event's waitlist, from 1; 0 when not waitlisted. */
export function waitlistPlace(live: LiveSync, rsvp: RsvpsRecord): number {
  if (rsvp.status !== 'waitlisted') {
    return 0;
  }
  const line = rsvpsOf(live, rsvp.event)
    .filter((r) => r.status === 'waitlisted')
    .sort((a, b) => a.waitlisted_at.localeCompare(b.waitlisted_at));
  return line.findIndex((r) => r.id === rsvp.id) + 1;
}

export function userName(live: LiveSync, id: string): string {
  // An author cleared by an account's deletion (docs/auth.md).
  if (!id) return 'Deleted account';
  const u = list(live, 'users').find((x: UsersRecord) => x.id === id);
  return u?.name ?? 'someone';
}
