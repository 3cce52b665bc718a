/**
 * The raw SIP message as the message pane shows it: split into start line, headers (name and
 * value apart, so names can be highlighted) and body; and the line diff of two messages, the way
 * sngrep compares them. Pure, tested.
 */

/** One line of a message, classified for highlighting. */
export type SipLine =
  | { readonly kind: 'start'; readonly text: string }
  | { readonly kind: 'header'; readonly name: string; readonly sep: string; readonly value: string }
  /** A folded header line (RFC 3261 §7.3.1: starts with whitespace), continuing the previous one. */
  | { readonly kind: 'fold'; readonly text: string }
  | { readonly kind: 'blank' }
  | { readonly kind: 'body'; readonly text: string };

/** Splits `raw` into lines (CRLF or LF) without the line ends. */
export function splitLines(raw: string): string[] {
  const lines = raw.split(/\r?\n/);
  // The message's final CRLF is a terminator, not an empty last line.
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Classifies the lines of a raw SIP message: start line, headers up to the first empty line, body after it. */
export function classifySipLines(raw: string): SipLine[] {
  const out: SipLine[] = [];
  let inBody = false;
  for (const [i, line] of splitLines(raw).entries()) {
    if (inBody) out.push({ kind: 'body', text: line });
    else if (i === 0) out.push({ kind: 'start', text: line });
    else if (line === '') {
      out.push({ kind: 'blank' });
      inBody = true;
    } else if (line.startsWith(' ') || line.startsWith('\t')) out.push({ kind: 'fold', text: line });
    else {
      const m = /^([^:\s]+)(\s*:\s?)(.*)$/.exec(line);
      out.push(m ? { kind: 'header', name: m[1]!, sep: m[2]!, value: m[3]! } : { kind: 'fold', text: line });
    }
  }
  return out;
}

/** One line of a diff: in both messages, only in the first (`del`) or only in the second (`add`). */
export interface DiffLine {
  readonly op: 'same' | 'del' | 'add';
  readonly text: string;
}

/** Most lines per side diffed with the LCS table; longer messages are compared line by line (the table would be lines²). */
export const MAX_DIFF_LINES = 2000;

/**
 * Line diff of two texts (longest common subsequence), in reading order; where both changed at
 * one place, the first's lines come before the second's.
 */
export function diffLines(a: string, b: string): DiffLine[] {
  const x = splitLines(a);
  const y = splitLines(b);
  if (x.length > MAX_DIFF_LINES || y.length > MAX_DIFF_LINES) {
    const out: DiffLine[] = [];
    for (let i = 0; i < Math.max(x.length, y.length); i++) {
      const l = x[i];
      const r = y[i];
      if (l !== undefined && l === r) out.push({ op: 'same', text: l });
      else {
        if (l !== undefined) out.push({ op: 'del', text: l });
        if (r !== undefined) out.push({ op: 'add', text: r });
      }
    }
    return out;
  }
  const n = x.length;
  const m = y.length;
  // lcs[i][j]: LCS length of x[i..] and y[j..], flat.
  const w = m + 1;
  const lcs = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--) lcs[i * w + j] = x[i] === y[j] ? lcs[(i + 1) * w + j + 1]! + 1 : Math.max(lcs[(i + 1) * w + j]!, lcs[i * w + j + 1]!);
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (x[i] === y[j]) {
      out.push({ op: 'same', text: x[i]! });
      i++;
      j++;
    } else if (lcs[(i + 1) * w + j]! >= lcs[i * w + j + 1]!) out.push({ op: 'del', text: x[i++]! });
    else out.push({ op: 'add', text: y[j++]! });
  }
  while (i < n) out.push({ op: 'del', text: x[i++]! });
  while (j < m) out.push({ op: 'add', text: y[j++]! });
  return out;
}
