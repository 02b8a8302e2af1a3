// Compile-time tests of the generated types (npm run typecheck, part of
// `make client-js`): what an app may write compiles, and every line after
// an expect-error marker must fail to compile, or tsc reports the marker.
import PocketBase from 'pocketbase';
import {
  SYNCED_COLLECTIONS,
  fieldErrors,
  registerDevice,
  type CollectionName,
  type DevicesRecord,
  type EventsCreate,
  type EventsRecord,
  type EventsUpdate,
  type MessagesRecord,
  type RsvpsCreate,
  type RsvpsRecord,
  type TypedPocketBase,
  type UsersRecord,
} from '../src/index.js';
import { SYNCED_COLLECTIONS as syncedBySync } from '../src/sync.js';
import { useLiveQuery, useSession } from '../src/react.js';

declare const pb: TypedPocketBase;

// pb.collection(name) is typed per collection.
export async function records(): Promise<void> {
  const event: EventsRecord = await pb.collection('events').getOne('id');
  const title: string = event.title;
  const starts: string = event.starts_at;
  const count: number = event.going_count;
  // @ts-expect-error: a relation is an id, not a record.
  const group: { name: string } = event.group;

  const rsvp: RsvpsRecord = await pb.collection('rsvps').getFirstListItem('');
  const status: 'going' | 'maybe' | 'declined' | 'waitlisted' = rsvp.status;
  // @ts-expect-error: a select field is a union of its values.
  const other: 'cancelled' = rsvp.status;
  const withEvent = await pb.collection('rsvps').getOne('id', { expand: 'event' });
  const eventTitle: string | undefined = withEvent.expand?.event?.title;

  const message: MessagesRecord = (await pb.collection('messages').getList(1, 20)).items[0];
  const files: string[] = message.attachments;
  const author: UsersRecord | undefined = message.expand?.author;
  // @ts-expect-error: the password hash is never in a record.
  author?.password;
  // @ts-expect-error: nor the token key.
  author?.tokenKey;
  void [title, starts, count, group, status, other, eventTitle, files];
}

// Create and update bodies leave out what the server sets.
export const create: EventsCreate = { group: 'g', title: 'Hike', starts_at: '2030-01-01 10:00:00.000Z', capacity: 10 };
// @ts-expect-error: going_count is server-managed.
export const counted: EventsCreate = { group: 'g', title: 'Hike', starts_at: '2030-01-01 10:00:00.000Z', going_count: 3 };
// @ts-expect-error: starts_at is required.
export const undated: EventsCreate = { group: 'g', title: 'Hike' };
export const update: EventsUpdate = { capacity: 12 };
// @ts-expect-error: group is fixed after creation.
export const moved: EventsUpdate = { group: 'other' };
export const ask: RsvpsCreate = { event: 'e', status: 'going' };
// @ts-expect-error: waitlisted_at is server-managed.
export const line: RsvpsCreate = { event: 'e', status: 'going', waitlisted_at: '' };
// @ts-expect-error: only the server puts people on the waitlist.
export const queue: RsvpsCreate = { event: 'e', status: 'waitlisted' };

// The SDK's own calls check their bodies against those types.
export async function writes(): Promise<void> {
  const created: EventsRecord = await pb.collection('events').create({ group: 'g', title: 'Hike', starts_at: '2030-01-01 10:00:00.000Z' });
  // @ts-expect-error: a misspelt field.
  await pb.collection('events').create({ group: 'g', titel: 'Hike', starts_at: '2030-01-01 10:00:00.000Z' });
  // @ts-expect-error: going_count is server-managed.
  await pb.collection('events').create({ group: 'g', title: 'Hike', starts_at: '2030-01-01 10:00:00.000Z', going_count: 3 });
  // @ts-expect-error: starts_at is required.
  await pb.collection('events').create({ group: 'g', title: 'Hike' });
  await pb.collection('events').update(created.id, { capacity: 12 });
  // @ts-expect-error: group is fixed after creation.
  await pb.collection('events').update(created.id, { group: 'other' });
  await pb.collection('rsvps').create({ event: created.id, status: 'going' });
  // @ts-expect-error: the server refuses 'waitlisted' from a client.
  await pb.collection('rsvps').create({ event: created.id, status: 'waitlisted' });
  // @ts-expect-error: nor as an update.
  await pb.collection('rsvps').update('r', { status: 'waitlisted' });
  // @ts-expect-error: a device's platform never changes: its update body is empty.
  await pb.collection('devices').update('d', { platform: 'ios' });
  // Files go up as uploads; other options are the SDK's.
  await pb.collection('messages').create({ group: 'g', body: 'hi', attachments: [{ uri: 'file:///a.jpg', name: 'a.jpg', type: 'image/jpeg' }] }, { fields: 'id' });
}

// expand takes the paths the server lets an app expand, comma-separated.
export async function expands(): Promise<void> {
  await pb.collection('rsvps').getOne('id', { expand: 'event,user' });
  await pb.collection('rsvps').getList(1, 20, { expand: 'event.group', filter: 'status = "going"' });
  await pb.collection('messages').getFullList({ expand: 'author' });
  await pb.collection('rsvps').create({ event: 'e', status: 'going' }, { expand: 'event' });
  // @ts-expect-error: not a relation of rsvps.
  await pb.collection('rsvps').getOne('id', { expand: 'group' });
  // @ts-expect-error: one bad path spoils the list.
  await pb.collection('rsvps').getOne('id', { expand: 'event,evnt' });
  // @ts-expect-error: a back-relation, which the server refuses to apps (400, edge/queries.go).
  await pb.collection('groups').getOne('id', { expand: 'memberships_via_group' });
  // @ts-expect-error: and through a relation.
  await pb.collection('rsvps').getFirstListItem('', { expand: 'event.rsvps_via_event' });
}

// The signed-in user is a UsersRecord.
export function signedIn(): string | undefined {
  const user = pb.authStore.record;
  // @ts-expect-error: the password hash is never in a record.
  user?.password;
  return user?.name;
}

// Superuser-only collections are not in an app's types.
// @ts-expect-error: push_outbox is for the server alone.
export const outbox: CollectionName = 'push_outbox';
// @ts-expect-error: so are sent pushes.
export const sent: CollectionName = 'pushes';

// The synced collections are the generated list, which sync.ts hands on.
export const synced: readonly CollectionName[] = syncedBySync;
export const same: typeof SYNCED_COLLECTIONS = syncedBySync;
// @ts-expect-error: invites are not synced.
export const invites: (typeof SYNCED_COLLECTIONS)[number] = 'invites';

// Devices are the generated record type.
export async function device(): Promise<DevicesRecord> {
  // @ts-expect-error: Expo push serves phones only.
  await registerDevice(pb, 'ExponentPushToken[x]', 'web');
  return registerDevice(pb, 'ExponentPushToken[x]', 'ios');
}

// fieldErrors maps a field to its message.
export const messages: Record<string, string> = fieldErrors(new Error('x'));

// React bindings: the live query is typed by collection.
export function Screen(): string[] {
  const { user } = useSession();
  const titles: string[] = useLiveQuery('events', (all) => all.map((e) => e.title));
  const all: EventsRecord[] = useLiveQuery('events');
  // @ts-expect-error: not a collection of the app.
  useLiveQuery('push_outbox');
  // @ts-expect-error: events have no body.
  useLiveQuery('events', (es) => es.map((e) => e.body));
  return [user?.name ?? '', ...titles, ...all.map((e) => e.id)];
}

// A TypedPocketBase is a PocketBase.
export const plain: PocketBase = pb;
