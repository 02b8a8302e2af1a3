// Helpers for the Crews business rules a client meets most: joining by
// invite code, making an invite, and RSVPs with capacity and waitlists
// (docs/api.md has the rules).
import type PocketBase from 'pocketbase';
import type {
  GroupsRecord,
  InvitesCreate,
  InvitesRecord,
  MembershipsRecord,
  RecordId,
  RsvpsRecord,
  TypedPocketBase,
} from './types.gen.js';

/** The answer of a join: the membership, with its group expanded. */
export type Joined = MembershipsRecord & { expand: { group: GroupsRecord } };

/**
 * joinByCode joins the group of an invite code (POST /api/crews/join).
 * Joining a group one is in already answers that membership, so a retry
 * after a lost answer is safe. Errors are the SDK's ClientResponseError:
 * 404 for an unknown code; 400 with response.data.code.code
 * "validation_invite_expired" or "validation_invite_used_up".
 */
export function joinByCode(pb: PocketBase, code: string): Promise<Joined> {
  return pb.send<Joined>('/api/crews/join', { method: 'POST', body: { code } });
}

/**
 * createInvite makes an invite to group (owners and admins); its `code`,
 * made by the server, is what the app shares.
 */
export function createInvite(
  pb: TypedPocketBase,
  group: RecordId,
  options: Omit<InvitesCreate, 'group'> = {},
): Promise<InvitesRecord> {
  return pb.collection('invites').create({ ...options, group });
}

/** What a person may ask for; the server decides between going and waitlisted. */
export type RsvpRequest = 'going' | 'maybe' | 'declined';

/**
 * rsvp records the signed-in user's answer to an event, creating or
 * updating their one RSVP, and returns it as stored: asking for "going" to
 * a full event answers status "waitlisted" (and a waitlisted RSVP asking
 * again keeps its place). A promotion later arrives as an update of the
 * same record, through realtime and sync.
 */
export async function rsvp(pb: TypedPocketBase, event: RecordId, status: RsvpRequest): Promise<RsvpsRecord> {
  const held = await findRsvp(pb, event);
  if (held) {
    return pb.collection('rsvps').update(held.id, { status });
  }
  try {
    return await pb.collection('rsvps').create({ event, status });
  } catch (err) {
    // Another device of the same person created it first: the unique
    // (event, user) index refused this one, so update that one instead.
    const again = await findRsvp(pb, event);
    if (!again) {
      throw err;
    }
    return pb.collection('rsvps').update(again.id, { status });
  }
}

/** cancelRsvp deletes the signed-in user's RSVP to event; false when there was none. */
export async function cancelRsvp(pb: TypedPocketBase, event: RecordId): Promise<boolean> {
  const held = await findRsvp(pb, event);
  if (!held) {
    return false;
  }
  await pb.collection('rsvps').delete(held.id);
  return true;
}

/** findRsvp returns the signed-in user's RSVP to event, if any. */
export async function findRsvp(pb: TypedPocketBase, event: RecordId): Promise<RsvpsRecord | undefined> {
  const user = pb.authStore.record?.id;
  if (!user) {
    throw new Error('hearth: an RSVP needs a signed-in user');
  }
  const page = await pb.collection('rsvps').getList(1, 1, {
    filter: pb.filter('event = {:event} && user = {:user}', { event, user }),
  });
  return page.items[0];
}
