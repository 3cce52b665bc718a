import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { CallSortKey, SessionBody } from '../../../../src/api-types.ts';
import { apiUrl } from '../../api.ts';
import { rememberListUrl } from '../../components/last-list.ts';
import { listKeyAction } from '../../components/list-keys.ts';
import { useSensors } from '../../components/sensors.ts';
import { formatDuration, formatTime } from '../../lib/format.ts';
import { navigate } from '../../router.ts';
import { EMPTY_FILTER, filterFromParams, filterToParams, searchQuery, submitFilter } from './call-filter.ts';
import type { CallFilter } from './call-filter.ts';
import { summarizeCalls } from './call-totals.ts';
import { callHref, CallTable } from './CallTable.tsx';
import { ColumnChooser } from './ColumnChooser.tsx';
import { COLUMNS_STORAGE_KEY, nextSort, parseColumns, serializeColumns } from './columns.ts';
import type { ColumnId } from './columns.ts';
import { FilterBar } from './FilterBar.tsx';
import { MAX_ROWS, useCallSearch } from './use-call-search.ts';

/** The column choice from localStorage (private windows may refuse storage: then the defaults, unsaved). */
function loadColumns(): readonly ColumnId[] {
  try {
    return parseColumns(window.localStorage.getItem(COLUMNS_STORAGE_KEY));
  } catch {
    return parseColumns(null);
  }
}

function saveColumns(columns: readonly ColumnId[]): void {
  try {
    window.localStorage.setItem(COLUMNS_STORAGE_KEY, serializeColumns(columns));
  } catch {
    // Storage refused (private mode, quota): the choice lasts for this page only, which the user sees.
  }
}

const isField = (t: EventTarget | null): boolean =>
  t instanceof HTMLElement && (t.isContentEditable || t instanceof HTMLInputElement || t instanceof HTMLSelectElement || t instanceof HTMLTextAreaElement);

/** The call last opened from the list, and the search it was opened from (see the restoring effect). */
let lastOpened: { query: string | null; id: number } | null = null;

/** Server milliseconds: one decimal under 10 ms, whole above (the footer is a hint, not a benchmark). */
const formatMs = (ms: number): string => (ms < 10 ? ms.toFixed(1) : String(Math.round(ms)));

const pct = (v: number | null): string => (v === null ? '–' : `${Math.round(v * 100)} %`);

/**
 * The call list at `/calls?<filter>`: the filter bar, the virtualised table of matching calls
 * (keyset pages loaded as the user scrolls), totals of the loaded rows and the server's time.
 * Keys: `/` filter, j/k or arrows select, Enter opens, Escape leaves the filter.
 */
export function CallListPage({ query }: { session: SessionBody; query: URLSearchParams }) {
  const queryString = query.toString();
  const filter = useMemo(() => filterFromParams(new URLSearchParams(queryString)), [queryString]);
  // A preset without its resolved range (a bare /calls, a hand-made ?range=6h): resolve it now and
  // put it in the URL, so the list is a stable link and paging does not slide with the clock.
  const unresolved = filter.range !== 'custom' && (filter.from === '' || filter.to === '');
  useEffect(() => {
    if (unresolved) navigate(`/calls?${filterToParams(submitFilter(filter, new Date())).toString()}`, true);
    else rememberListUrl(`/calls?${queryString}`);
  }, [unresolved, filter, queryString]);

  const apiQuery = unresolved ? null : new URLSearchParams(searchQuery(filter) as Record<string, string>).toString();
  const [reload, setReload] = useState(0);
  const search = useCallSearch(apiQuery, reload);
  const { sensors } = useSensors();
  const [columns, setColumns] = useState(loadColumns);
  const [selected, setSelected] = useState(-1);
  const pageRows = useRef(20);
  const filterInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    setSelected(-1);
  }, [apiQuery, reload]);

  // Back from a call to the same search: select the call that was opened again, so the user
  // carries on from where they were (within the rows loaded by then).
  useEffect(() => {
    if (lastOpened === null || lastOpened.query !== apiQuery) return;
    const index = search.rows.findIndex((r) => r.id === lastOpened?.id);
    if (index >= 0) {
      setSelected(index);
      lastOpened = null;
    }
  }, [apiQuery, search.rows]);

  const go = (next: CallFilter): void => {
    const url = `/calls?${filterToParams(next).toString()}`;
    // The same search again (Enter on an unchanged custom range) reloads instead of stacking history.
    if (url === `/calls?${queryString}`) setReload((n) => n + 1);
    else navigate(url);
  };

  const open = useCallback(
    (index: number) => {
      const row = search.rows[index];
      if (!row) return;
      lastOpened = { query: apiQuery, id: row.id };
      navigate(callHref(row));
    },
    [search.rows, apiQuery],
  );

  // What the key handler reads, refreshed at every render. Preact runs effects after paint (a
  // frame later, longer on a busy machine), so a listener re-subscribed per selection still held
  // the old selection when an Enter followed a click at once: the call did not open (seen in CI).
  const keyState = useRef({ selected, rows: search.rows.length, open });
  keyState.current = { selected, rows: search.rows.length, open };

  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      const { selected, rows, open } = keyState.current;
      // Enter on a button or link is that control's own.
      if (e.key === 'Enter' && e.target instanceof HTMLElement && e.target.closest('button, a')) return;
      const action = listKeyAction(
        { key: e.key, ctrlKey: e.ctrlKey, metaKey: e.metaKey, altKey: e.altKey, inField: isField(e.target) },
        selected,
        rows,
        pageRows.current,
      );
      if (!action) return;
      e.preventDefault();
      switch (action.kind) {
        case 'select':
          // Moving through the list takes the focus off a clicked header or button, so the Enter
          // that follows opens the call instead of pressing that button again.
          if (e.target instanceof HTMLElement && e.target.closest('button, a')) e.target.blur();
          setSelected(action.index);
          break;
        case 'open':
          open(action.index);
          break;
        case 'focus-filter':
          filterInput.current?.focus();
          filterInput.current?.select();
          break;
        case 'leave-filter':
          (e.target as HTMLElement).blur();
          break;
      }
    };
    window.addEventListener('keydown', onKey);
    return () => {
      window.removeEventListener('keydown', onKey);
    };
  }, []);

  const onPageRows = useCallback((n: number) => {
    pageRows.current = n;
  }, []);
  const { loadMore } = search;
  const onNearEnd = useCallback(() => {
    loadMore();
  }, [loadMore]);

  const totals = useMemo(() => summarizeCalls(search.rows), [search.rows]);
  const exportHref = apiUrl('calls/export', { ...searchQuery(filter), format: 'csv' });

  let empty = null;
  if (search.error && search.rows.length === 0)
    empty = (
      <div class="state error" role="alert">
        <p>
          Search failed: {search.error.message} <span class="muted">({search.error.code})</span>
        </p>
        <button type="button" onClick={search.retry}>
          Retry
        </button>
      </div>
    );
  else if (search.loading && search.rows.length === 0) empty = <div class="state muted">Searching…</div>;
  else if (!search.loading && search.rows.length === 0)
    empty = (
      <div class="state">
        <p>
          No calls {filter.from ? `from ${formatTime(filter.from, 0)} ` : ''}
          {filter.to ? `to ${formatTime(filter.to, 0)} UTC ` : ''}match this filter.
        </p>
        <p class="muted">Widen the time range or remove a condition.</p>
      </div>
    );

  return (
    <main class="call-list">
      <FilterBar
        filter={filter}
        sensors={sensors}
        focusRef={filterInput}
        onSubmit={go}
        onReset={() => {
          go(submitFilter(EMPTY_FILTER, new Date()));
        }}
      />
      <div class="list-tools">
        <span class="totals" aria-live="polite">
          {/* No count while the first page is out or failed: "0 calls" would read as an answer. */}
          {search.pages > 0 && (
            <>
              <strong>{totals.calls.toLocaleString('en')}</strong> calls{search.next !== null ? ' loaded (more below)' : ''}
            </>
          )}
          {totals.calls > 0 && (
            <>
              {' · '}answered {totals.answered.toLocaleString('en')} ({pct(totals.asr)}) · ACD {formatDuration(totals.acdS) || '–'} ·{' '}
              <span class={totals.badMos > 0 ? 'q-bad' : undefined}>{totals.badMos.toLocaleString('en')} with MOS &lt; 3.1</span>
              {totals.incomplete > 0 && ` · ${totals.incomplete.toLocaleString('en')} incomplete`}
            </>
          )}
        </span>
        <span class="spacer" />
        <a class="button" href={exportHref} download title="Every call of this filter as CSV (up to 1 M rows)">
          Export CSV
        </a>
        <ColumnChooser
          columns={columns}
          onChange={(c) => {
            setColumns(c);
            saveColumns(c);
          }}
        />
      </div>
      <CallTable
        rows={search.rows}
        columns={columns}
        sort={filter.sort}
        onSort={(key: CallSortKey) => {
          go({ ...filter, sort: nextSort(filter.sort, key) });
        }}
        selected={selected}
        onSelect={setSelected}
        onOpen={open}
        onNearEnd={onNearEnd}
        onPageRows={onPageRows}
        empty={empty}
      />
      <footer class="list-footer">
        {search.error && search.rows.length > 0 && (
          <span class="error" role="alert">
            Next page failed: {search.error.message}{' '}
            <button type="button" onClick={search.retry}>
              Retry
            </button>
          </span>
        )}
        {search.capped && <span>Showing the first {MAX_ROWS.toLocaleString('en')} calls: narrow the filter or export CSV for all.</span>}
        {search.loading && search.rows.length > 0 && <span class="muted">Loading more…</span>}
        <span class="spacer" />
        <span class="muted keys">/ filter · j k select · Enter open</span>
        {search.lastPage && (
          <span class="muted">
            {search.lastPage.rows} rows in {formatMs(search.lastPage.tookMs)} ms
            {search.pages > 1 ? ` (page ${search.pages})` : ''}
          </span>
        )}
      </footer>
    </main>
  );
}
