/**
 * Values an open call or registration keeps for its whole life, held small: strings that share no
 * memory with the SIP message they came from, repeated values shared across calls, exact-size
 * lists. The open-call memory bound (README) rests on them (callscope issue 12, finding 9).
 */

/**
 * A copy of `text` that shares no memory with the string it was cut from. V8 keeps a substring of
 * 13 or more characters as a slice of its parent: the SIP adapter cuts every field out of the
 * message's decoded header, so a Call-ID or User-Agent kept as is would keep that whole header
 * (0.3-2 KB) alive for the call's life — the largest part of an open call's memory before
 * (callscope issue 12, finding 9). Not per packet: once per string a call or registration keeps.
 */
export function ownText(text: string): string {
  return text.length < 13 ? text : (' ' + text).slice(1);
}

/** Most distinct strings {@link sharedText} keeps; past it, values are owned copies (still correct). */
const SHARED_TEXT_MAX = 4096;
/** The shared copies: immutable strings, so one table serves every call table of the process. */
const sharedTexts = new Map<string, string>();

/**
 * {@link ownText} for values that repeat across calls (domains, addresses, User-Agents, reason
 * phrases): one copy for all the calls that carry it, instead of one 32+ byte string per call.
 * Bounded: the first {@link SHARED_TEXT_MAX} distinct values are shared, later ones copied.
 */
export function sharedText(text: string): string {
  const known = sharedTexts.get(text);
  if (known !== undefined) return known;
  const own = ownText(text);
  if (sharedTexts.size < SHARED_TEXT_MAX) sharedTexts.set(own, own);
  return own;
}

/** {@link sharedText} of a nullable string. */
export function sharedTextOrNull(text: string | null): string | null {
  return text === null ? null : sharedText(text);
}

/** {@link ownText} of a nullable string. */
export function ownTextOrNull(text: string | null): string | null {
  return text === null ? null : ownText(text);
}

/**
 * `list` with `item` appended, in a new array of exactly that length. A call's lists (endpoints,
 * streams, responses) grow a few times in its life; `push` would give each a backing store of 17
 * or more slots on the first element, most of them never used.
 */
export function appended<T>(list: readonly T[], item: T): T[] {
  const out = new Array<T>(list.length + 1);
  for (let i = 0; i < list.length; i++) out[i] = list[i]!;
  out[list.length] = item;
  return out;
}
