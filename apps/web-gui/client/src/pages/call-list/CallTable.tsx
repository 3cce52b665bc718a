import type { JSX } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { CallListRow } from '../../../../src/api-types.ts';
import { Link } from '../../components/Link.tsx';
import { computeWindow, needsMore, scrollToReveal } from '../../components/virtual-window.ts';
import { codecListText, rowCodecText } from '../../lib/codec-text.ts';
import { formatDuration, formatNumber, formatTime } from '../../lib/format.ts';
import { bandClass, jitterBand, lossBand, mosBand } from '../../lib/quality.ts';
import type { QualityBand, Thresholds } from '../../lib/quality.ts';
import { useThresholds } from '../../components/quality-thresholds.ts';
import { END_REASON_LABELS } from './call-filter.ts';
import { columnDef, gridTemplate, minTableWidth, parseSort } from './columns.ts';
import type { ColumnId } from './columns.ts';
import type { CallSortKey } from '../../../../src/api-types.ts';

/** Every row's height, px: fixed, so the window of rows is arithmetic (virtual-window.ts). Matches `.ct-row` in app.css. */
export const ROW_HEIGHT = 24;
/** The sticky header's height, px (`.ct-head`). */
const HEAD_HEIGHT = 26;
/** Fetch the next page when the view comes within this many rows of the end: about two screens. */
const PREFETCH_ROWS = 60;

/** The link that opens a call (its detail page is keyed by id and start). */
export const callHref = (row: CallListRow): string => `/calls/${row.id}?start=${encodeURIComponent(row.start)}`;

/** "a / b" of two numbers, each coloured by its band and always written (colour is never the only signal). */
function pair(a: number | null, b: number | null, band: (v: number | null) => QualityBand, digits: number): JSX.Element {
  const one = (v: number | null): JSX.Element => <span class={bandClass(band(v))}>{v === null ? '–' : formatNumber(v, digits)}</span>;
  return (
    <>
      {one(a)}
      <span class="sep"> / </span>
      {one(b)}
    </>
  );
}

/** SIP class of a final code, for its colour: 2xx fine, 3xx/4xx notable, 5xx/6xx failures. */
const codeClass = (code: number | null): string => (code === null ? 'q-none' : code < 300 ? 'code-ok' : code < 500 ? 'code-warn' : 'code-fail');

/** The content of one cell; loss and jitter coloured by the user's thresholds `t`. */
function cell(id: ColumnId, r: CallListRow, t: Thresholds): JSX.Element | string {
  switch (id) {
    case 'start':
      return (
        <Link href={callHref(r)} tabIndex={-1} class="mono" title={r.incomplete ? 'The sensor dropped some of this call’s packets' : undefined}>
          {formatTime(r.start, 3)}
          {r.incomplete && <span class="incomplete"> !</span>}
        </Link>
      );
    case 'answer':
      return <span class="mono">{formatTime(r.answer, 3)}</span>;
    case 'end':
      return <span class="mono">{formatTime(r.end, 3)}</span>;
    case 'caller':
      return r.caller;
    case 'called':
      return r.called;
    case 'duration':
      return formatDuration(r.duration);
    case 'connect':
      return formatDuration(r.connect_duration);
    case 'pdd':
      return formatNumber(r.pdd_ms, 0);
    case 'code':
      return (
        <span class={codeClass(r.last_sip_code)}>
          {r.last_sip_code ?? ''} {r.last_sip_reason ?? ''}
        </span>
      );
    case 'mos':
      return pair(r.a_mos, r.b_mos, mosBand, 2);
    case 'loss':
      return pair(r.a_loss_pct, r.b_loss_pct, (v) => lossBand(v, t), 2);
    case 'jitter':
      return pair(r.a_jitter_max_ms, r.b_jitter_max_ms, (v) => jitterBand(v, t), 1);
    case 'codec':
      return rowCodecText(r);
    case 'sensor':
      return r.sensor;
    case 'end_reason':
      return END_REASON_LABELS[r.end_reason];
    case 'bye_by':
      return r.bye_by ?? '';
    case 'caller_ip':
      return <span class="mono">{r.caller_ip}</span>;
    case 'callee_ip':
      return <span class="mono">{r.callee_ip}</span>;
    case 'call_id':
      return <span class="mono">{r.call_id}</span>;
  }
}

/** Tooltip of a cell whose text may be cut by its width. */
function cellTitle(id: ColumnId, r: CallListRow): string | undefined {
  switch (id) {
    case 'caller':
      return `${r.caller} (${r.caller_ip})`;
    case 'called':
      return `${r.called} (${r.callee_ip})`;
    case 'call_id':
      return r.call_id;
    case 'code':
      return `${r.last_sip_code ?? ''} ${r.last_sip_reason ?? ''}`;
    case 'codec':
      return `caller: ${codecListText(r.a_codecs, r.a_codec) || '–'}\ncallee: ${codecListText(r.b_codecs, r.b_codec) || '–'}`;
    default:
      return undefined;
  }
}

/**
 * The call list's table: a sticky header of sort buttons over virtualised rows of one fixed
 * height. Only the rows on screen (and a margin) are in the DOM, whatever the number loaded;
 * near the end it asks for the next page. The selected row is kept in view.
 */
export function CallTable(props: {
  rows: readonly CallListRow[];
  columns: readonly ColumnId[];
  sort: string;
  onSort: (key: CallSortKey) => void;
  selected: number;
  onSelect: (index: number) => void;
  onOpen: (index: number) => void;
  /** Asked when the view nears the last loaded row (the caller knows whether there is more). */
  onNearEnd: () => void;
  /** Told the number of rows a screen holds (keyboard paging). */
  onPageRows: (rows: number) => void;
  /** Shown in the body when there are no rows (empty or error state). */
  empty?: JSX.Element | null;
}) {
  const scroller = useRef<HTMLDivElement>(null);
  const thresholds = useThresholds();
  const [view, setView] = useState({ scrollTop: 0, height: 600 });
  const { rows, columns, onNearEnd, onPageRows } = props;

  // The viewport height follows the window (ResizeObserver: the filter bar may wrap to more lines).
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return undefined;
    const measure = (): void => {
      setView({ scrollTop: el.scrollTop, height: Math.max(0, el.clientHeight - HEAD_HEIGHT) });
    };
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => {
      ro.disconnect();
    };
  }, []);

  useEffect(() => {
    onPageRows(Math.max(1, Math.floor(view.height / ROW_HEIGHT)));
  }, [view.height, onPageRows]);

  const geometry = { scrollTop: view.scrollTop, height: view.height, rowHeight: ROW_HEIGHT, rowCount: rows.length };
  const win = computeWindow(geometry);
  const nearEnd = needsMore(geometry, PREFETCH_ROWS);
  useEffect(() => {
    if (nearEnd) onNearEnd();
  }, [nearEnd, rows.length, onNearEnd]);

  // A new search starts at the top.
  const first = rows[0];
  useEffect(() => {
    if (scroller.current) scroller.current.scrollTop = 0;
  }, [first]);

  // Keep the selected row in view when the keyboard moves it.
  useEffect(() => {
    const el = scroller.current;
    if (!el || props.selected < 0) return;
    const top = scrollToReveal(props.selected, el.scrollTop, Math.max(0, el.clientHeight - HEAD_HEIGHT), ROW_HEIGHT);
    if (top !== el.scrollTop) el.scrollTop = top;
  }, [props.selected]);

  const template = gridTemplate(columns);
  const width = `max(100%, ${minTableWidth(columns)}px)`;
  const sort = parseSort(props.sort);

  return (
    <div
      class="ct"
      ref={scroller}
      role="grid"
      aria-label="Calls"
      // Reachable with Tab; the keys (j/k, Enter) work from anywhere on the page but the fields.
      tabIndex={0}
      aria-rowcount={rows.length + 1}
      onScroll={(e) => {
        const el = e.currentTarget;
        setView({ scrollTop: el.scrollTop, height: Math.max(0, el.clientHeight - HEAD_HEIGHT) });
      }}
    >
      <div class="ct-head" role="row" aria-rowindex={1} style={{ gridTemplateColumns: template, width }}>
        {columns.map((id) => {
          const def = columnDef(id);
          const key = 'sort' in def ? def.sort : undefined;
          const active = key !== undefined && sort.key === key;
          return (
            <div
              key={id}
              role="columnheader"
              class={'numeric' in def ? 'num' : undefined}
              aria-sort={active ? (sort.desc ? 'descending' : 'ascending') : undefined}
            >
              {key === undefined ? (
                def.label
              ) : (
                <button
                  type="button"
                  class={active ? 'sort active' : 'sort'}
                  title={`Sort by ${def.label}`}
                  onClick={() => {
                    props.onSort(key);
                  }}
                >
                  {def.label}
                  {active ? (sort.desc ? ' ▼' : ' ▲') : ''}
                </button>
              )}
            </div>
          );
        })}
      </div>
      {rows.length === 0 && props.empty ? (
        <div class="ct-empty">{props.empty}</div>
      ) : (
        <div class="ct-body" style={{ height: `${win.totalHeight}px`, width }}>
          <div style={{ transform: `translateY(${win.offset}px)` }}>
            {rows.slice(win.first, win.end).map((r, k) => {
              const index = win.first + k;
              const selected = index === props.selected;
              return (
                <div
                  key={r.id}
                  role="row"
                  aria-rowindex={index + 2}
                  aria-selected={selected}
                  class={selected ? 'ct-row sel' : index % 2 ? 'ct-row odd' : 'ct-row'}
                  style={{ gridTemplateColumns: template }}
                  onClick={() => {
                    // As with j/k: a button focused before (a sort header) must not take the next Enter.
                    const focused = document.activeElement;
                    if (focused instanceof HTMLElement && focused.closest('button, a')) focused.blur();
                    props.onSelect(index);
                  }}
                  onDblClick={() => {
                    props.onOpen(index);
                  }}
                >
                  {columns.map((id) => (
                    <div key={id} role="gridcell" class={'numeric' in columnDef(id) ? 'num' : undefined} title={cellTitle(id, r)}>
                      {cell(id, r, thresholds)}
                    </div>
                  ))}
                </div>
              );
            })}
          </div>
        </div>
      )}
    </div>
  );
}
