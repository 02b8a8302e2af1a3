// What the screens read from the local store, typed with the generated
// record types. Each hook is a live query (useLiveQuery of the package's
// React bindings): the screen re-renders when the records change.
import type { GroupsRecord, MembershipsRecord, RsvpsRecord } from '@crews/hearth-client';
import { useLiveQuery } from '@crews/hearth-client/react';

const byCreated = (a: { created: string }, b: { created: string }) => a.created.localeCompare(b.created);

/** The user's groups, by name, with their role in each. */
export function useMyGroups(user: string): Array<{ group: GroupsRecord; role: MembershipsRecord['role'] }> {
  const groups = useLiveQuery('groups', (all) => new Map(all.map((g) => [g.id, g])));
  const memberships = useLiveQuery('memberships', (all) => all.filter((m) => m.user === user), [user]);
  return memberships
    .filter((m) => groups.has(m.group))
    .map((m) => ({ group: groups.get(m.group)!, role: m.role }))
    .sort((a, b) => a.group.name.localeCompare(b.group.name));
}

export function useGroup(group: string): GroupsRecord | undefined {
  return useLiveQuery('groups', (all) => all.find((g) => g.id === group), [group]);
}

export function useMembership(group: string, user: string): MembershipsRecord | undefined {
  return useLiveQuery('memberships', (all) => all.find((m) => m.group === group && m.user === user), [group, user]);
}

export function useMessages(group: string) {
  return useLiveQuery('messages', (all) => all.filter((m) => m.group === group).sort(byCreated), [group]);
}

export function useEvents(group: string) {
  return useLiveQuery('events', (all) => all.filter((e) => e.group === group).sort((a, b) => a.starts_at.localeCompare(b.starts_at)), [group]);
}

export function useRsvps(event: string): RsvpsRecord[] {
  return useLiveQuery('rsvps', (all) => all.filter((r) => r.event === event), [event]);
}

/** The place of rsvp among its event's RSVPs' waitlist, from 1; 0 when not waitlisted. */
export function waitlistPlace(rsvps: RsvpsRecord[], rsvp: RsvpsRecord): number {
  if (rsvp.status !== 'waitlisted') {
    return 0;
  }
  const line = rsvps.filter((r) => r.status === 'waitlisted').sort((a, b) => a.waitlisted_at.localeCompare(b.waitlisted_at));
  return line.findIndex((r) => r.id === rsvp.id) + 1;
}

/** Each user's name by id, for showing who wrote what. */
export function useNames(): Map<string, string> {
  return useLiveQuery('users', (all) => new Map(all.map((u) => [u.id, u.name])));
}
