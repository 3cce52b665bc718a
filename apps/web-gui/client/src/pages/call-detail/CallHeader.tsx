import type { ComponentChildren } from 'preact';
import type { CallRecord } from '@callscope/cdr-model';
import { Link } from '../../components/Link.tsx';
import { formatDuration, formatTime } from '../../lib/format.ts';
import { callIdentifiers, legSearchHref } from './call-legs.ts';
import { endpointKey } from './ladder-layout.ts';
import { droppedSummary } from './call-summary.ts';
import { secondsBetween } from './timeline.ts';

/** Seconds with ms and the clock form: `12.345 s (0:12)`; '–' for null. */
function seconds(s: number | null): string {
  return s === null ? '–' : `${s.toFixed(3)} s (${formatDuration(s)})`;
}

/** Where the last copy of the Call-ID got: on the clipboard, selected for Ctrl+C (no Clipboard API on plain HTTP), or refused. */
export type CopyState = 'idle' | 'copied' | 'selected' | 'failed';

const COPY_TEXT: Readonly<Record<CopyState, string>> = { idle: 'copy', copied: 'copied', selected: 'selected: Ctrl+C', failed: 'copy refused' };

/** Labelled value of the header grid. */
function Field(props: { label: string; children: ComponentChildren; title?: string }) {
  return (
    <div class="cd-field" title={props.title}>
      <span class="cd-label">{props.label}</span>
      <span class="cd-value">{props.children}</span>
    </div>
  );
}

/**
 * The call's header: who called whom (names, domains, signalling addresses), when (start, answer,
 * end with ms; PDD, duration, connect time), how it ended (final code, who hung up, end reason),
 * where it was seen (sensor, VLAN, transport), its Call-ID with a copy button, DTMF, the
 * identifiers that link it to other legs (X-CID, Session-ID, icid, correlation headers: only
 * those it carried, each a search for every leg with it), and a warning when the sensor dropped
 * some of its packets.
 */
export function CallHeader(props: { call: CallRecord; onCopyCallId: () => void; copyState: CopyState }) {
  const c = props.call;
  const dropped = droppedSummary(c);
  const code = c.last_sip_code === null ? '–' : `${c.last_sip_code} ${c.last_sip_reason ?? ''}`;
  const codeClass = c.last_sip_code === null ? '' : c.last_sip_code >= 400 ? 'cd-code-bad' : 'cd-code-ok';
  const ids = callIdentifiers(c);
  return (
    <div class="cd-header-body">
      <div class="cd-parties">
        <span class="cd-party">
          {c.caller_name && c.caller_name !== c.caller ? <span class="cd-name">{c.caller_name} </span> : null}
          <b>{c.caller}</b>
          <span class="cd-muted">@{c.caller_domain}</span> <span class="mono cd-addr">{endpointKey({ ip: c.caller_ip, port: c.caller_port })}</span>
        </span>
        <span class="cd-arrow" aria-label="calls">→</span>
        <span class="cd-party">
          <b>{c.called}</b>
          <span class="cd-muted">@{c.called_domain}</span> <span class="mono cd-addr">{endpointKey({ ip: c.callee_ip, port: c.callee_port })}</span>
        </span>
        <span class={`cd-code ${codeClass}`}>{code}</span>
        <span class="cd-muted">
          {c.transport.toUpperCase()} · sensor {c.sensor}
          {c.vlan === null ? '' : ` · VLAN ${c.vlan}`}
        </span>
      </div>
      <div class="cd-fields">
        <Field label="start">{formatTime(c.start, 3)}</Field>
        <Field label="answer">{c.answer ? `${formatTime(c.answer, 3)} (+${secondsBetween(c.start, c.answer).toFixed(3)} s)` : '–'}</Field>
        <Field label="end">{formatTime(c.end, 3)}</Field>
        <Field label="PDD">{c.pdd_ms === null ? '–' : `${c.pdd_ms.toFixed(0)} ms`}</Field>
        <Field label="duration">{seconds(c.duration)}</Field>
        <Field label="connected">{seconds(c.connect_duration)}</Field>
        <Field label="hung up by">{c.bye_by ?? '–'}</Field>
        <Field label="end reason">{c.end_reason.replace(/_/g, ' ')}</Field>
        <Field label="SIP msgs">{c.sip_packets}</Field>
      </div>
      <div class="cd-fields">
        <Field label="Call-ID">
          <span class="mono cd-callid">{c.call_id}</span>{' '}
          <button type="button" class="cd-small" onClick={props.onCopyCallId} title="copy the Call-ID (c)">
            {COPY_TEXT[props.copyState]}
          </button>
        </Field>
        <Field label="DTMF" title="digit (+seconds since start, method)">
          {c.dtmf.length === 0 ? (
            '–'
          ) : (
            <span class="cd-dtmf">
              {c.dtmf.map((d, i) => (
                <span key={i} class="cd-digit" title={`${formatTime(d.ts, 6)} ${d.method}${d.duration_ms === null ? '' : `, ${d.duration_ms} ms`}`}>
                  <b class="mono">{d.digit}</b>
                  <span class="cd-muted"> +{secondsBetween(c.start, d.ts).toFixed(3)}</span>
                </span>
              ))}
            </span>
          )}
        </Field>
        {c.caller_user_agent || c.callee_user_agent ? (
          <Field label="UA">
            <span class="cd-muted">{c.caller_user_agent ?? '?'} → {c.callee_user_agent ?? '?'}</span>
          </Field>
        ) : null}
      </div>
      {ids.length > 0 ? (
        <div class="cd-fields cd-ids" aria-label="Identifiers">
          {ids.map((x) => (
            <Field key={x.label} label={x.label} title={x.title}>
              <Link class="mono cd-id" href={legSearchHref(x.search, c.start)} title={`every leg with this ${x.label} within an hour`}>
                {x.text}
              </Link>
            </Field>
          ))}
        </div>
      ) : null}
      {dropped.total > 0 ? (
        <div class="cd-warning" role="alert">
          ⚠ Incomplete data: the sensor could not use {dropped.total} of this call's packets ({dropped.text}); figures below miss them.
        </div>
      ) : null}
    </div>
  );
}
