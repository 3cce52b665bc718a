import { describe, expect, it } from 'vitest';
import { MAX_DIFF_LINES, classifySipLines, diffLines, splitLines } from './sip-text.ts';

const invite = [
  'INVITE sip:bob@example.com SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-1',
  'Subject: a folded',
  '  header value',
  'l:   4',
  '',
  'v=0',
  'o=- 1 1 IN IP4 192.0.2.10',
  '',
].join('\r\n');

describe('classifySipLines', () => {
  it('tells the start line, headers (name apart from value), folds, the blank line and the body', () => {
    expect(classifySipLines(invite)).toEqual([
      { kind: 'start', text: 'INVITE sip:bob@example.com SIP/2.0' },
      { kind: 'header', name: 'Via', sep: ': ', value: 'SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-1' },
      { kind: 'header', name: 'Subject', sep: ': ', value: 'a folded' },
      { kind: 'fold', text: '  header value' },
      { kind: 'header', name: 'l', sep: ': ', value: '  4' },
      { kind: 'blank' },
      { kind: 'body', text: 'v=0' },
      { kind: 'body', text: 'o=- 1 1 IN IP4 192.0.2.10' },
    ]);
  });
  it('keeps a header-looking line of the body as body, and a script-looking value as plain text', () => {
    const lines = classifySipLines('SIP/2.0 200 OK\nX-Evil: <script>alert(1)</script>\n\nVia: not a header');
    expect(lines[1]).toEqual({ kind: 'header', name: 'X-Evil', sep: ': ', value: '<script>alert(1)</script>' });
    expect(lines[3]).toEqual({ kind: 'body', text: 'Via: not a header' });
  });
});

describe('splitLines', () => {
  it('accepts CRLF and LF and drops only the final terminator', () => {
    expect(splitLines('a\r\nb\n\nc\r\n')).toEqual(['a', 'b', '', 'c']);
    expect(splitLines('')).toEqual(['']);
  });
});

describe('diffLines', () => {
  it('marks lines only in the first as del and only in the second as add, in order', () => {
    const a = 'INVITE sip:b SIP/2.0\r\nCSeq: 1 INVITE\r\nVia: x\r\n\r\nv=0\r\nm=audio 4000 RTP/AVP 8\r\n';
    const b = 'INVITE sip:b SIP/2.0\r\nCSeq: 2 INVITE\r\nVia: x\r\n\r\nv=0\r\nm=audio 4002 RTP/AVP 8\r\na=sendonly\r\n';
    expect(diffLines(a, b)).toEqual([
      { op: 'same', text: 'INVITE sip:b SIP/2.0' },
      { op: 'del', text: 'CSeq: 1 INVITE' },
      { op: 'add', text: 'CSeq: 2 INVITE' },
      { op: 'same', text: 'Via: x' },
      { op: 'same', text: '' },
      { op: 'same', text: 'v=0' },
      { op: 'del', text: 'm=audio 4000 RTP/AVP 8' },
      { op: 'add', text: 'm=audio 4002 RTP/AVP 8' },
      { op: 'add', text: 'a=sendonly' },
    ]);
  });
  it('finds no change between equal messages', () => {
    expect(diffLines(invite, invite).every((l) => l.op === 'same')).toBe(true);
  });
  it('keeps every line of both sides (the diff rebuilds each message)', () => {
    const a = 'x\ny\nz\nq';
    const b = 'y\nq\nx\nz';
    const d = diffLines(a, b);
    expect(d.filter((l) => l.op !== 'add').map((l) => l.text)).toEqual(splitLines(a));
    expect(d.filter((l) => l.op !== 'del').map((l) => l.text)).toEqual(splitLines(b));
    // LCS of length 2 (y q or x z): 2 same lines.
    expect(d.filter((l) => l.op === 'same')).toHaveLength(2);
  });
  it('compares huge messages line by line instead of building a lines² table', () => {
    const big = Array.from({ length: MAX_DIFF_LINES + 1 }, (_, i) => `l${i}`).join('\n');
    const d = diffLines(big, big.replace('l5\n', 'changed\n'));
    expect(d.filter((l) => l.op !== 'same')).toEqual([{ op: 'del', text: 'l5' }, { op: 'add', text: 'changed' }]);
  });
});
