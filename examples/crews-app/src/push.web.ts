// The web build has no push: these stand in for push.ts.
import type { TypedPocketBase } from '@crews/hearth-client';
import type { PushTarget } from './push';

export type { PushTarget };

export async function registerForPush(_pb: TypedPocketBase): Promise<string | null> {
  return null;
}

export function onPushTap(_open: (target: PushTarget) => void): () => void {
  return () => undefined;
}
