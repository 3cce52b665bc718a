import type { RefObject } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { EndReason } from '@callscope/cdr-model';
import type { SensorSummary } from '../../../../src/api-types.ts';
import {
  checkFilter,
  END_REASON_LABELS,
  formatTimeInput,
  parseTimeInput,
  resolveTimeRange,
  submitFilter,
  TIME_PRESETS,
} from './call-filter.ts';
import type { CallFilter, FilterProblem, NumberMatch, TimeRange } from './call-filter.ts';

/** Codecs offered while typing (any name can be typed: the server matches the stored one). */
const COMMON_CODECS = ['PCMA', 'PCMU', 'G722', 'G729', 'opus', 'G723', 'GSM', 'iLBC', 'AMR', 'AMR-WB', 'speex', 'telephone-event'];

/** The form's own state: the filter plus the time fields as typed (UTC text, not yet ISO). */
interface Draft {
  readonly filter: CallFilter;
  readonly fromText: string;
  readonly toText: string;
}

const draftOf = (filter: CallFilter): Draft => ({ filter, fromText: formatTimeInput(filter.from), toText: formatTimeInput(filter.to) });

/**
 * The filter bar: every condition of the search in two dense rows. Enter in any field submits;
 * the URL then changes and the list follows it. Nothing is sent while the user types: a search
 * over millions of rows runs when asked, not per keystroke.
 */
export function FilterBar(props: {
  filter: CallFilter;
  sensors: readonly SensorSummary[] | null;
  /** The field `/` jumps to. */
  focusRef: RefObject<HTMLInputElement | null>;
  onSubmit: (filter: CallFilter) => void;
  onReset: () => void;
}) {
  const [draft, setDraft] = useState<Draft>(() => draftOf(props.filter));
  const [problems, setProblems] = useState<readonly FilterProblem[]>([]);

  // A new URL (back/forward, a sort click, a pasted link) replaces whatever was being edited.
  useEffect(() => {
    setDraft(draftOf(props.filter));
    setProblems([]);
  }, [props.filter]);

  const f = draft.filter;
  const set = <K extends keyof CallFilter>(key: K, value: CallFilter[K]): void => {
    setDraft((d) => ({ ...d, filter: { ...d.filter, [key]: value } }));
  };
  const text = (key: keyof CallFilter) => (e: Event): void => {
    set(key, (e.currentTarget as HTMLInputElement).value as never);
  };
  const problemOf = (key: keyof CallFilter): FilterProblem | undefined => problems.find((p) => p.field === key);
  const invalid = (key: keyof CallFilter): { 'aria-invalid': boolean; title?: string } => {
    const p = problemOf(key);
    return p ? { 'aria-invalid': true, title: p.message } : { 'aria-invalid': false };
  };

  const submit = (e: Event): void => {
    e.preventDefault();
    let filter = draft.filter;
    const timeProblems: FilterProblem[] = [];
    if (filter.range === 'custom') {
      // Typed times become ISO here; an empty field means "no bound" (the server's default).
      const from = draft.fromText.trim() === '' ? '' : parseTimeInput(draft.fromText);
      const to = draft.toText.trim() === '' ? '' : parseTimeInput(draft.toText);
      if (from === null) timeProblems.push({ field: 'from', message: 'From: YYYY-MM-DD HH:MM[:SS] UTC' });
      if (to === null) timeProblems.push({ field: 'to', message: 'To: YYYY-MM-DD HH:MM[:SS] UTC' });
      filter = { ...filter, from: from ?? '', to: to ?? '' };
    }
    filter = submitFilter(filter, new Date());
    const all = [...timeProblems, ...checkFilter(filter)];
    setProblems(all);
    if (all.length === 0) props.onSubmit(filter);
  };

  const matchSelect = (key: 'callerMatch' | 'calledMatch', label: string) => (
    <select
      class="w-match"
      aria-label={label}
      value={f[key]}
      onChange={(e) => {
        set(key, e.currentTarget.value as NumberMatch);
      }}
    >
      <option value="prefix">starts</option>
      <option value="suffix">ends</option>
      <option value="contains">contains</option>
    </select>
  );

  return (
    <form class="filter-bar" onSubmit={submit} role="search" aria-label="Call search">
      <div class="filter-row">
        <label class="fld">
          <span>Time</span>
          <select
            value={f.range}
            onChange={(e) => {
              const range = e.currentTarget.value as TimeRange;
              // Show what the preset means now; it is resolved again when submitted.
              setDraft((d) => {
                if (range === 'custom') return { ...d, filter: { ...d.filter, range } };
                const r = resolveTimeRange(range, new Date());
                return { filter: { ...d.filter, range }, fromText: formatTimeInput(r.from), toText: formatTimeInput(r.to) };
              });
            }}
          >
            {TIME_PRESETS.map((p) => (
              <option key={p.id} value={p.id}>
                {p.label}
              </option>
            ))}
            <option value="custom">Custom (UTC)</option>
          </select>
        </label>
        <label class="fld">
          <span>From</span>
          <input
            class="mono w-time"
            placeholder="YYYY-MM-DD HH:MM:SS"
            value={draft.fromText}
            onInput={(e) => {
              const v = e.currentTarget.value;
              // Typing a time is choosing a custom range.
              setDraft((d) => ({ ...d, fromText: v, filter: { ...d.filter, range: 'custom' } }));
            }}
            {...invalid('from')}
          />
        </label>
        <label class="fld">
          <span>To</span>
          <input
            class="mono w-time"
            placeholder="YYYY-MM-DD HH:MM:SS"
            value={draft.toText}
            onInput={(e) => {
              const v = e.currentTarget.value;
              setDraft((d) => ({ ...d, toText: v, filter: { ...d.filter, range: 'custom' } }));
            }}
            {...invalid('to')}
          />
        </label>
        <label class="fld">
          <span>Caller</span>
          {matchSelect('callerMatch', 'Caller match')}
          <input ref={props.focusRef} class="w-num" value={f.caller} onInput={text('caller')} spellcheck={false} />
        </label>
        <label class="fld">
          <span>Called</span>
          {matchSelect('calledMatch', 'Called match')}
          <input class="w-num" value={f.called} onInput={text('called')} spellcheck={false} />
        </label>
        <label class="fld">
          <span>IP</span>
          <input class="mono w-ip" value={f.ip} onInput={text('ip')} placeholder="addr or CIDR" spellcheck={false} {...invalid('ip')} />
        </label>
        <label class="fld grow">
          <span>Call-ID</span>
          <input class="mono" value={f.callId} onInput={text('callId')} spellcheck={false} />
        </label>
        <label class="fld grow" title="Every leg of a conversation: a Call-ID, X-CID, P-Charging-Vector icid, Session-ID (UUID) or correlation header value, exact">
          <span>Leg / correlation ID</span>
          <input class="mono" value={f.leg} onInput={text('leg')} placeholder="Call-ID, X-CID, icid, Session-ID…" spellcheck={false} />
        </label>
      </div>
      <div class="filter-row">
        <label class="fld">
          <span>Sensor</span>
          <select value={f.sensor} onChange={text('sensor')} {...invalid('sensor')}>
            <option value="">any</option>
            {props.sensors?.map((s) => (
              <option key={s.id} value={String(s.id)}>
                {s.name}
              </option>
            ))}
            {/* A link naming a sensor this list does not know still shows what it filters on. */}
            {f.sensor !== '' && !props.sensors?.some((s) => String(s.id) === f.sensor) && <option value={f.sensor}>#{f.sensor}</option>}
          </select>
        </label>
        <label class="fld">
          <span>Code</span>
          <input class="w-code" value={f.code} onInput={text('code')} placeholder="486, 4xx" {...invalid('code')} />
        </label>
        <label class="fld">
          <span>Duration s</span>
          <input class="w-small" value={f.durationMin} onInput={text('durationMin')} placeholder="min" inputMode="decimal" {...invalid('durationMin')} />
          <input class="w-small" value={f.durationMax} onInput={text('durationMax')} placeholder="max" inputMode="decimal" aria-label="Duration max" {...invalid('durationMax')} />
        </label>
        <label class="fld">
          <span>MOS &lt;</span>
          <input class="w-small" value={f.mosBelow} onInput={text('mosBelow')} placeholder="3.5" inputMode="decimal" {...invalid('mosBelow')} />
        </label>
        <label class="fld">
          <span>Loss % ≥</span>
          <input class="w-small" value={f.lossAbove} onInput={text('lossAbove')} placeholder="1" inputMode="decimal" {...invalid('lossAbove')} />
        </label>
        <label class="fld">
          <span>Jitter ms ≥</span>
          <input class="w-small" value={f.jitterAbove} onInput={text('jitterAbove')} placeholder="30" inputMode="decimal" {...invalid('jitterAbove')} />
        </label>
        <label class="fld">
          <span>Codec</span>
          <input class="w-codec" value={f.codec} onInput={text('codec')} list="codec-names" spellcheck={false} />
          <datalist id="codec-names">
            {COMMON_CODECS.map((c) => (
              <option key={c} value={c} />
            ))}
          </datalist>
        </label>
        <label class="fld">
          <span>End reason</span>
          <select
            class="w-reason"
            value={f.endReason}
            onChange={(e) => {
              set('endReason', e.currentTarget.value as EndReason | '');
            }}
          >
            <option value="">any</option>
            {(Object.keys(END_REASON_LABELS) as EndReason[]).map((r) => (
              <option key={r} value={r}>
                {END_REASON_LABELS[r]}
              </option>
            ))}
          </select>
        </label>
        <span class="spacer" />
        <button type="submit" class="primary" title="Search (Enter)">
          Search
        </button>
        <button type="button" onClick={props.onReset} title="Last hour, no conditions">
          Reset
        </button>
      </div>
      {problems.length > 0 && (
        <p class="form-error" role="alert">
          {problems.map((p) => p.message).join(' · ')}
        </p>
      )}
    </form>
  );
}
