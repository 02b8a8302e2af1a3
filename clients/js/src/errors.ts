// Errors for people: what the server said about each field of a refused
// request, in its own words.

/**
 * fieldErrors returns, for an SDK error of a refused create or update (a
 * ClientResponseError with status 400), each field's message as the
 * server wrote it: { password: 'Must be at least 8 character(s).' }.
 * Anything else (no answer, another status, not an SDK error) gives {}.
 *
 *   try { await signUp(pb, account); }
 *   catch (err) { setErrors(fieldErrors(err)); }   // errors.password under the password field
 */
export function fieldErrors(err: unknown): Record<string, string> {
  const data = (err as { response?: { data?: unknown } } | null)?.response?.data;
  const out: Record<string, string> = {};
  if (!data || typeof data !== 'object') {
    return out;
  }
  for (const [field, detail] of Object.entries(data as Record<string, unknown>)) {
    const message = (detail as { message?: unknown } | null)?.message;
    if (typeof message === 'string' && message) {
      out[field] = message;
    }
  }
  return out;
}
