import { describe, expect, it } from 'vitest';
import type { BranchRecord, LinkedLegRecord } from '@callscope/cdr-model';
import type { CallRelation, RelatedCallRow } from '../../../../src/api-types.ts';
import { branchRows, callIdentifiers, formatUuid, legSearchHref, offsetText, relatedEntries, relationText, RELATION_TEXT } from './call-legs.ts';

const START = '2026-12-04T10:00:00.250000Z';

const row = (id: number, callId: string, start: string, relation: CallRelation, header: string | null = null): RelatedCallRow => ({
  id, start, answer: null, end: start, duration: 1, connect_duration: null, pdd_ms: null, sensor_id: 1, sensor: 's1', call_id: callId,
  caller: '441', called: '442', caller_ip: '10.0.0.1', callee_ip: '10.0.0.2', last_sip_code: 200, last_sip_reason: 'OK', end_reason: 'bye_confirmed',
  bye_by: 'caller', mos_worst: null, a_mos: null, b_mos: null, a_loss_pct: null, b_loss_pct: null, a_jitter_max_ms: null, b_jitter_max_ms: null,
  a_codec: null, b_codec: null, a_codecs: null, b_codecs: null, incomplete: false, relation, relation_header: header,
});

describe('call identifiers (issue 19)', () => {
  it('lists only those the call carried, a Session-ID as dashed UUIDs', () => {
    expect(callIdentifiers({ x_cid: null, session_id: null, icid: null, correlation: {} })).toEqual([]);
    const ids = callIdentifiers({
      x_cid: 'a84b4c76e66710@pc33.example.com',
      session_id: { local_uuid: 'ab30317f1a784dc48ff824d0d3715d86', remote_uuid: '47755a9de7794ba387653f2099a8e6cb' },
      icid: 'icid-1234',
      correlation: { 'X-Carrier-Ref': 'ref-9' },
    });
    expect(ids.map((x) => [x.label, x.text, x.search])).toEqual([
      ['X-CID', 'a84b4c76e66710@pc33.example.com', 'a84b4c76e66710@pc33.example.com'],
      ['Session-ID', 'ab30317f-1a78-4dc4-8ff8-24d0d3715d86 ↔ 47755a9d-e779-4ba3-8765-3f2099a8e6cb', 'ab30317f1a784dc48ff824d0d3715d86'],
      ['icid', 'icid-1234', 'icid-1234'],
      ['X-Carrier-Ref', 'ref-9', 'ref-9'],
    ]);
    expect(callIdentifiers({ x_cid: null, session_id: { local_uuid: 'ab30317f1a784dc48ff824d0d3715d86', remote_uuid: null }, icid: null, correlation: {} })[0]!.text).toBe(
      'ab30317f-1a78-4dc4-8ff8-24d0d3715d86',
    );
  });

  it('formats only 32-hex-digit UUIDs', () => {
    expect(formatUuid('AB30317F1A784DC48FF824D0D3715D86')).toBe('AB30317F-1A78-4DC4-8FF8-24D0D3715D86');
    expect(formatUuid('not-a-uuid')).toBe('not-a-uuid');
  });

  it('links an identifier to the leg search an hour either side of the start', () => {
    const href = legSearchHref('a b&c', START);
    const q = new URLSearchParams(href.slice(href.indexOf('?') + 1));
    expect(href.startsWith('/calls?')).toBe(true);
    expect([q.get('from'), q.get('to'), q.get('leg')]).toEqual(['2026-12-04T09:00:00Z', '2026-12-04T11:00:01Z', 'a b&c']);
  });
});

describe('related legs merged with the sensor\'s links', () => {
  const linked = (callId: string, start: string, by: LinkedLegRecord['by'] = 'x_cid', header: string | null = null): LinkedLegRecord => ({ call_id: callId, start, by, header });

  it('names every relation, the header by its name', () => {
    expect(relationText('header', 'X-Carrier-Ref')).toBe('same X-Carrier-Ref');
    expect(relationText('header', null)).toBe('same correlation header');
    expect(Object.keys(RELATION_TEXT).sort()).toEqual(['header', 'icid', 'same_numbers', 'session_id', 'x_cid']);
  });

  it('marks a row the sensor linked (same Call-ID and start, whatever the fraction digits) and lists the unmatched links by start', () => {
    const rows = [row(7, 'b@x', '2026-12-04T10:00:01.500000Z', 'x_cid'), row(9, 'c@x', '2026-12-04T10:20:00.000000Z', 'header', 'X-Carrier-Ref')];
    const links = [linked('b@x', '2026-12-04T10:00:01.5Z'), linked('gone@x', '2026-12-04T10:05:00.000000Z', 'header', 'X-Carrier-Ref'), linked('c@x', '2026-12-04T10:20:00.000001Z')];
    const entries = relatedEntries(rows, links);
    expect(entries.map((e) => (e.kind === 'row' ? `row ${e.row.call_id} ${e.relation} ${e.linked === null ? '-' : 'sensor'}` : `linked ${e.leg.call_id}`))).toEqual([
      'row b@x X-CID link sensor',
      'linked gone@x',
      'row c@x same X-Carrier-Ref -',
      // A link whose start differs by a microsecond is another call: listed on its own.
      'linked c@x',
    ]);
  });

  it('is empty without rows or links', () => {
    expect(relatedEntries([], [])).toEqual([]);
  });
});

describe('fork branches', () => {
  it('gives each branch its times since the start, codes, CANCEL and the chosen mark', () => {
    const branches: BranchRecord[] = [
      { to_tag: 'as7f1', ip: '198.51.100.20', port: 5060, invite: '2026-12-04T10:00:00.260000Z', provisional: [{ code: 180, time: '2026-12-04T10:00:01.027000Z' }, { code: 183, time: '2026-12-04T10:00:01.500000Z' }], final_code: 200, final: '2026-12-04T10:00:02.627000Z', cancel: null, chosen: true },
      { to_tag: null, ip: '2001:db8::21', port: 5062, invite: null, provisional: [], final_code: 487, final: '2026-12-04T10:00:02.850000Z', cancel: '2026-12-04T10:00:02.700000Z', chosen: false },
      { to_tag: 'x', ip: '10.0.0.9', port: 5060, invite: '2026-12-04T10:00:00.240000Z', provisional: [], final_code: null, final: null, cancel: null, chosen: false },
    ];
    expect(branchRows(START, branches)).toEqual([
      { toTag: 'as7f1', address: '198.51.100.20:5060', invite: '+0.010 s', provisional: ['180 +0.777 s', '183 +1.250 s'], final: '200 +2.377 s', finalClass: 'ok', cancel: '–', chosen: true },
      { toTag: '–', address: '[2001:db8::21]:5062', invite: '–', provisional: [], final: '487 +2.600 s', finalClass: 'fail', cancel: '+2.450 s', chosen: false },
      { toTag: 'x', address: '10.0.0.9:5060', invite: '-0.010 s', provisional: [], final: '–', finalClass: 'none', cancel: '–', chosen: false },
    ]);
    expect(offsetText(START, null)).toBe('–');
  });
});
