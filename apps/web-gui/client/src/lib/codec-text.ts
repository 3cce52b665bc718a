/**
 * How the screens name the codecs of a stream that changed codec mid-call (a re-INVITE switching
 * PCMA to PCMU on the same SSRC, issue 19): every codec in order, joined by an arrow, so the list,
 * the streams table and the ladder all say `PCMA→PCMU`.
 */

/** What a codec entry needs to be named (a `StreamRecord.codecs` entry). */
export interface CodecEntry {
  readonly codec: string | null;
  readonly payload_type: number;
}

/** Name of one codec entry: the codec, or `PT 96` for a dynamic payload type without a name. */
export const codecName = (c: CodecEntry): string => c.codec ?? `PT ${c.payload_type}`;

/**
 * A main stream's codecs as the call list shows them: the stored comma list (`a_codecs`,
 * `PCMA,PCMU`) as `PCMA→PCMU`, else the single codec (`a_codec`: calls stored before the list
 * existed); '' when the side has neither.
 */
export function codecListText(list: string | null, single: string | null): string {
  if (list !== null && list !== '') return list.split(',').join('→');
  return single ?? '';
}

/** A call-list row's codec fields (a subset of `CallListRow`). */
export interface RowCodecs {
  readonly a_codec: string | null;
  readonly b_codec: string | null;
  readonly a_codecs: string | null;
  readonly b_codecs: string | null;
}

/**
 * The codec cell of the call list: one text when both sides carried the same codecs (or the
 * callee side none), else `caller / callee`; `–` for a side without a stream next to one with.
 */
export function rowCodecText(r: RowCodecs): string {
  const a = codecListText(r.a_codecs, r.a_codec);
  const b = codecListText(r.b_codecs, r.b_codec);
  if (a === b || b === '') return a;
  return `${a === '' ? '–' : a} / ${b}`;
}

/**
 * A stream's codecs for a short label (the ladder's RTP band): `PCMA→PCMU`; at most `max`
 * names, then `…` and the last one (a call that switched back and forth stays short); the single
 * codec (or `fallback`) without a change.
 */
export function streamCodecText(s: { readonly codec: string | null; readonly codecs: readonly CodecEntry[] }, fallback = 'RTP', max = 3): string {
  if (s.codecs.length <= 1) return s.codecs[0] !== undefined ? codecName(s.codecs[0]) : (s.codec ?? fallback);
  const names = s.codecs.map(codecName);
  if (names.length <= max) return names.join('→');
  return `${names.slice(0, max - 1).join('→')}→…→${names[names.length - 1]!}`;
}
