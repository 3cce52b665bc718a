import { describe, expect, it } from 'vitest';
import { codecListText, rowCodecText, streamCodecText } from './codec-text.ts';

const row = (a: string | null, b: string | null, as: string | null, bs: string | null) => ({ a_codec: a, b_codec: b, a_codecs: as, b_codecs: bs });

describe('codec text (issue 19: a codec change mid-call)', () => {
  it('writes a stored list as arrows, and falls back to the single codec of older rows', () => {
    expect(codecListText('PCMA,PCMU', 'PCMA')).toBe('PCMA→PCMU');
    expect(codecListText('G722', 'G722')).toBe('G722');
    expect(codecListText(null, 'G729')).toBe('G729');
    expect(codecListText('', 'G729')).toBe('G729');
    expect(codecListText(null, null)).toBe('');
  });

  it('shows one text when both sides agree, else caller / callee', () => {
    expect(rowCodecText(row('PCMA', 'PCMA', 'PCMA', 'PCMA'))).toBe('PCMA');
    expect(rowCodecText(row('PCMA', 'PCMA', 'PCMA,PCMU', 'PCMA,PCMU'))).toBe('PCMA→PCMU');
    // Only the callee side changed: the sides differ although a_codec = b_codec.
    expect(rowCodecText(row('PCMA', 'PCMA', 'PCMA', 'PCMA,PCMU'))).toBe('PCMA / PCMA→PCMU');
    expect(rowCodecText(row('PCMA', null, 'PCMA', null))).toBe('PCMA');
    expect(rowCodecText(row(null, 'PCMU', null, 'PCMU'))).toBe('– / PCMU');
    expect(rowCodecText(row(null, null, null, null))).toBe('');
    // Stored before the lists existed.
    expect(rowCodecText(row('G729', 'PCMA', null, null))).toBe('G729 / PCMA');
  });

  it('labels a stream with its codecs in order, short when it switched many times', () => {
    const c = (codec: string | null, payload_type: number) => ({ codec, payload_type });
    expect(streamCodecText({ codec: 'PCMA', codecs: [c('PCMA', 8), c('PCMU', 0)] })).toBe('PCMA→PCMU');
    expect(streamCodecText({ codec: 'PCMA', codecs: [c('PCMA', 8)] })).toBe('PCMA');
    expect(streamCodecText({ codec: 'PCMA', codecs: [] })).toBe('PCMA');
    expect(streamCodecText({ codec: null, codecs: [] })).toBe('RTP');
    expect(streamCodecText({ codec: null, codecs: [c(null, 96), c('PCMU', 0)] })).toBe('PT 96→PCMU');
    expect(streamCodecText({ codec: 'PCMA', codecs: [c('PCMA', 8), c('PCMU', 0), c('PCMA', 8), c('G722', 9)] })).toBe('PCMA→PCMU→…→G722');
  });
});
