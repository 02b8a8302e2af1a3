// Compile-time tests of the generated types (npm run typecheck, part of
// `make client-js`): what an app may write compiles, and every line after
// an expect-error marker must fail to compile, or tsc reports the marker.
import PocketBase from 'pocketbase';
import type {
  EventsCreate,
  EventsRecord,
  EventsUpdate,
  MessagesRecord,
  RsvpsCreate,
  RsvpsRecord,
  TypedPocketBase,
  UsersRecord,
} from '../src/index.js';

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

// A TypedPocketBase is a PocketBase.
export const plain: PocketBase = pb;
