/**
 * The call list's keyset cursor: base64url of a small JSON array holding the last row's sort
 * value, start and id (the position the next page continues after), plus what makes the cursor
 * safe to continue with:
 *
 * - the resolved time range: a search without `from`/`to` means "the last hour before now", and
 *   "now" must not move between pages (page 2 would lose the calls of the hour's first minutes);
 * - a fingerprint of the filters and sort it was made for: a cursor pasted onto another search
 *   is refused (`BAD_CURSOR`) instead of silently paging from a position of another order.
 *
 * It is opaque to the browser and not signed: any value in it only selects a position of the
 * caller's own search, every field is checked here and reaches SQL as a placeholder value.
 *
 * @packageDocumentation
 */
import { createHash } from 'node:crypto';
import { isIsoMicros } from '@callscope/cdr-model';
import type { IsoMicros } from '@callscope/cdr-model';
import type { GuiKeyset, GuiSortKey } from '@callscope/cdr-schema';
import type { CallSearchQuery } from '../api-types.js';
import { FILTER_KEYS } from './call-query.js';

/** Layout version, first element of the array (a changed layout refuses old cursors cleanly). */
const CURSOR_VERSION = 1;

/** What a cursor carries. */
export interface CallCursor {
  readonly position: GuiKeyset;
  readonly from: IsoMicros;
  readonly to: IsoMicros;
  readonly fingerprint: string;
}

/** A cursor that cannot be used (malformed, or made for another search). */
export class CallCursorError extends Error {
  override readonly name = 'CallCursorError';
}

/**
 * Fingerprint of a search's filters, range and sort as the client wrote them (an absent key
 * counts as absent, so a defaulted "last hour" keeps its fingerprint while "now" moves): 12 hex
 * digits of SHA-256, enough to tell searches apart, not a secret.
 */
export function searchFingerprint(q: CallSearchQuery): string {
  const parts = FILTER_KEYS.map((k) => [k, q[k] ?? null]);
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 12);
}

/** Encodes a cursor. */
export function encodeCursor(c: CallCursor): string {
  const json = JSON.stringify([CURSOR_VERSION, c.position.value, c.position.start, c.position.id, c.from, c.to, c.fingerprint]);
  return Buffer.from(json, 'utf8').toString('base64url');
}

/**
 * Decodes a cursor for a search sorted by `key` with fingerprint `fingerprint`.
 *
 * @throws CallCursorError if it is not a cursor of this layout, or belongs to another search.
 */
export function decodeCursor(text: string, key: GuiSortKey, fingerprint: string): CallCursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw new CallCursorError('cursor is not one this server made');
  }
  if (!Array.isArray(parsed) || parsed.length !== 7 || parsed[0] !== CURSOR_VERSION) throw new CallCursorError('cursor is not one this server made');
  const [, value, start, id, from, to, fp] = parsed as unknown[];
  if (typeof fp !== 'string' || fp !== fingerprint) throw new CallCursorError('cursor belongs to another search (filters or sort changed): start from the first page');
  const okValue =
    key === 'start' ? value === null : key === 'caller' || key === 'called' ? typeof value === 'string' && value.length <= 128 : typeof value === 'number' && Number.isFinite(value);
  if (!okValue) throw new CallCursorError('cursor position does not fit its sort');
  if (typeof start !== 'string' || !isIsoMicros(start) || typeof from !== 'string' || !isIsoMicros(from) || typeof to !== 'string' || !isIsoMicros(to)) {
    throw new CallCursorError('cursor times are malformed');
  }
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) throw new CallCursorError('cursor id is malformed');
  return { position: { value: value as number | string | null, start, id }, from, to, fingerprint: fp };
}
