import type { CallRecord, RegisterRecord } from '@callscope/cdr-model';

const pad = (s: string, n: number) => (s.length >= n ? s.slice(0, n) : s + ' '.repeat(n - s.length));
const num = (v: number | null, digits = 2) => (v === null ? '-' : v.toFixed(digits));

/** A compact, aligned table of calls and registrations for people (`--format table`). */
export function formatTable(calls: readonly CallRecord[], registers: readonly RegisterRecord[]): string {
  const lines: string[] = [];
  lines.push(`${calls.length} call(s)`);
  if (calls.length > 0) {
    lines.push(
      [pad('start (UTC)', 26), pad('caller', 16), pad('called', 16), pad('result', 22), pad('dur s', 8), pad('by', 7), 'streams (side pkts lost% jit.max MOS)'].join(' '),
    );
    for (const c of calls) {
      const result = `${c.last_sip_code ?? '-'} ${c.end_reason}`;
      const streams = c.streams
        .map((s) => `${s.side} ${s.packets} ${num(s.lost_pct, 1)}% ${num(s.jitter_max_ms, 1)}ms ${num(s.mos_adapt, 1)}`)
        .join(' | ');
      lines.push(
        [
          pad(c.start.replace('T', ' ').replace('Z', ''), 26),
          pad(c.caller, 16),
          pad(c.called, 16),
          pad(result, 22),
          pad(c.duration.toFixed(1), 8),
          pad(c.bye_by ?? '-', 7),
          streams || '-',
        ].join(' '),
      );
      const indent = ' '.repeat(27);
      if (c.dtmf.length > 0) lines.push(`${indent}DTMF ${c.dtmf.map((d) => d.digit).join('')}`);
      // Queued before issue 19 a record has no branches or legs: read as none.
      const branches = (c.branches as CallRecord['branches'] | undefined) ?? [];
      if (branches.length > 0) {
        const list = branches.map((b) => `${b.ip}:${b.port} ${b.final_code ?? '-'}${b.chosen ? ' (chosen)' : ''}`).join(', ');
        lines.push(`${indent}fork ${branches.length} branches: ${list}`);
      }
      for (const l of (c.linked_legs as CallRecord['linked_legs'] | undefined) ?? []) lines.push(`${indent}leg ${l.call_id} (${l.by === 'header' ? (l.header ?? 'header') : l.by})`);
    }
  }
  if (registers.length > 0) {
    lines.push('', `${registers.length} registration(s)`);
    lines.push([pad('first (UTC)', 26), pad('user', 16), pad('domain', 20), pad('result', 12), pad('code', 5), 'expires'].join(' '));
    for (const r of registers) {
      lines.push(
        [pad(r.first.replace('T', ' ').replace('Z', ''), 26), pad(r.user, 16), pad(r.domain, 20), pad(r.result, 12), pad(String(r.last_sip_code ?? '-'), 5), String(r.expires ?? '-')].join(' '),
      );
    }
  }
  return lines.join('\n');
}
