import { describe, expect, it } from 'vitest';
import {
  checkFilter,
  EMPTY_FILTER,
  filterFromParams,
  filterToParams,
  formatTimeInput,
  isIpOrCidr,
  parseTimeInput,
  resolveTimeRange,
  searchQuery,
  submitFilter,
} from './call-filter.ts';
import type { CallFilter } from './call-filter.ts';

const NOW = new Date('2026-12-04T15:07:42.250Z');

describe('call filter <-> URL', () => {
  it('round-trips every field through the query string', () => {
    const filter: CallFilter = {
      range: 'custom',
      from: '2026-12-03T12:00:00Z',
      to: '2026-12-03T18:00:00.123456Z',
      caller: '+4420',
      callerMatch: 'contains',
      called: '1234',
      calledMatch: 'suffix',
      ip: '10.0.0.0/8',
      callId: 'a84b4c76e66710@pc33.atlanta.com',
      sensor: '3',
      code: '4xx',
      durationMin: '1',
      durationMax: '60.5',
      mosBelow: '3.5',
      lossAbove: '2',
      jitterAbove: '30',
      codec: 'PCMA',
      leg: '8d1b2c3a-4e5f-6071-8293-a4b5c6d7e8f9',
      endReason: 'rtp_timeout',
      sort: '-duration',
    };
    const params = filterToParams(filter);
    expect(params.has('range')).toBe(false);
    expect(filterFromParams(new URLSearchParams(params.toString()))).toEqual(filter);
  });

  it('sends the API only its own keys: no range, no default match mode, nothing empty', () => {
    const filter = { ...EMPTY_FILTER, range: '15m' as const, from: '2026-12-04T14:52:43Z', to: '2026-12-04T15:07:43Z', caller: ' 0044 ', called: '', calledMatch: 'suffix' as const };
    expect(searchQuery(filter)).toEqual({ from: '2026-12-04T14:52:43Z', to: '2026-12-04T15:07:43Z', caller: '0044' });
    expect(filterToParams(filter).toString()).toBe('range=15m&from=2026-12-04T14%3A52%3A43Z&to=2026-12-04T15%3A07%3A43Z&caller=0044');
  });

  it('reads a bare /calls as the last hour and a from/to link without range as custom', () => {
    expect(filterFromParams(new URLSearchParams(''))).toEqual(EMPTY_FILTER);
    expect(filterFromParams(new URLSearchParams('from=2026-12-01T00:00:00Z')).range).toBe('custom');
    expect(filterFromParams(new URLSearchParams('range=6h&from=2026-12-01T00:00:00Z')).range).toBe('6h');
  });

  it('ignores values outside the enumerations instead of failing on a hand-edited link', () => {
    const f = filterFromParams(new URLSearchParams('range=2y&caller=1&caller_match=regex&end_reason=DROP+TABLE&foo=bar'));
    expect(f.range).toBe('1h');
    expect(f.callerMatch).toBe('prefix');
    expect(f.endReason).toBe('');
    expect(f.caller).toBe('1');
  });

  it('keeps script- and SQL-looking values as plain text both ways', () => {
    const f = { ...EMPTY_FILTER, range: 'custom' as const, callId: `<script>alert(1)</script>' OR 1=1 --&x=1` };
    expect(filterFromParams(filterToParams(f)).callId).toBe(f.callId);
  });
});

describe('time presets', () => {
  it('resolves rolling presets to whole seconds ending after now', () => {
    expect(resolveTimeRange('15m', NOW)).toEqual({ from: '2026-12-04T14:52:43Z', to: '2026-12-04T15:07:43Z' });
    expect(resolveTimeRange('1h', NOW)).toEqual({ from: '2026-12-04T14:07:43Z', to: '2026-12-04T15:07:43Z' });
    expect(resolveTimeRange('6h', NOW)).toEqual({ from: '2026-12-04T09:07:43Z', to: '2026-12-04T15:07:43Z' });
    expect(resolveTimeRange('7d', NOW)).toEqual({ from: '2026-11-27T15:07:43Z', to: '2026-12-04T15:07:43Z' });
  });

  it('resolves today and yesterday to UTC days', () => {
    expect(resolveTimeRange('today', NOW)).toEqual({ from: '2026-12-04T00:00:00Z', to: '2026-12-04T15:07:43Z' });
    expect(resolveTimeRange('yesterday', NOW)).toEqual({ from: '2026-12-03T00:00:00Z', to: '2026-12-04T00:00:00Z' });
    // Across a month boundary.
    expect(resolveTimeRange('yesterday', new Date('2026-03-01T00:00:00.001Z'))).toEqual({ from: '2026-02-28T00:00:00Z', to: '2026-03-01T00:00:00Z' });
  });

  it('keeps an exact second as the end (no extra second when now is whole)', () => {
    expect(resolveTimeRange('15m', new Date('2026-12-04T15:00:00.000Z')).to).toBe('2026-12-04T15:00:00Z');
  });

  it('re-resolves a preset at submit time and keeps a custom range as typed', () => {
    const old = filterFromParams(new URLSearchParams('range=15m&from=2026-12-01T00:00:00Z&to=2026-12-01T00:15:00Z'));
    const submitted = submitFilter(old, NOW);
    expect(submitted.from).toBe('2026-12-04T14:52:43Z');
    expect(submitted.to).toBe('2026-12-04T15:07:43Z');
    expect(filterToParams(submitted).get('range')).toBe('15m');
    // The shared link itself still shows the old absolute range until someone submits it.
    expect(searchQuery(old).from).toBe('2026-12-01T00:00:00Z');
    const custom = { ...old, range: 'custom' as const };
    expect(submitFilter(custom, NOW)).toBe(custom);
  });
});

describe('time input', () => {
  it('accepts the shapes engineers paste, in UTC, keeping the fraction', () => {
    expect(parseTimeInput('2026-11-29 17:00')).toBe('2026-11-29T17:00:00Z');
    expect(parseTimeInput('2026-11-29T17:00:05.123456Z')).toBe('2026-11-29T17:00:05.123456Z');
    expect(parseTimeInput(' 2026-11-29 ')).toBe('2026-11-29T00:00:00Z');
    expect(formatTimeInput('2026-11-29T17:00:05.120Z')).toBe('2026-11-29 17:00:05.120');
    expect(parseTimeInput(formatTimeInput('2026-11-29T17:00:05.120Z'))).toBe('2026-11-29T17:00:05.120Z');
  });

  it('refuses impossible dates and other shapes', () => {
    for (const bad of ['2026-02-30', '2026-11-29 24:00', '29/11/2026', '2026-11-29 17:00:05.1234567', 'yesterday', ''])
      expect(parseTimeInput(bad), bad).toBeNull();
  });
});

describe('filter checks', () => {
  it('accepts IPv4, IPv6 and CIDRs and refuses the rest', () => {
    for (const ok of ['10.0.0.1', '10.0.0.0/8', '0.0.0.0/0', '2001:db8::1', '2001:db8::/32', '::1', '::ffff:10.0.0.1']) expect(isIpOrCidr(ok), ok).toBe(true);
    for (const bad of ['10.0.0', '256.1.1.1', '10.0.0.0/33', '2001:db8::/129', '1:2::3::4', 'host.example', '10.0.0.1/8/1', '10.0.0.0/'])
      expect(isIpOrCidr(bad), bad).toBe(false);
  });

  it('names each wrong field', () => {
    const f = { ...EMPTY_FILTER, ip: 'x', code: '4x', durationMin: '10', durationMax: '5', mosBelow: '6', lossAbove: 'a', sensor: 'one' };
    expect(checkFilter(f).map((p) => p.field)).toEqual(['ip', 'code', 'sensor', 'mosBelow', 'lossAbove', 'durationMax']);
    expect(checkFilter({ ...EMPTY_FILTER, code: '486', mosBelow: '3.5', ip: '192.168.0.0/16' })).toEqual([]);
    expect(checkFilter({ ...EMPTY_FILTER, code: '5XX' })).toEqual([]);
  });

  it('compares custom times as instants, not as text', () => {
    const f = { ...EMPTY_FILTER, range: 'custom' as const, from: '2026-12-01T10:00:00.5Z', to: '2026-12-01T10:00:00Z' };
    expect(checkFilter(f).map((p) => p.message)).toEqual(['To must be after From']);
    expect(checkFilter({ ...f, to: '2026-12-01T10:00:01Z' })).toEqual([]);
  });
});
