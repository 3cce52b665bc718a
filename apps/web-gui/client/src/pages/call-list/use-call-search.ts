/**
 * The rows of one search, page after page: the first page when the query changes, the next
 * keyset page (`next` cursor) when the list asks for more. A newer query aborts the older
 * request, so a slow answer never lands on a newer search's rows.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { CallListRow, CallSearchPage } from '../../../../src/api-types.ts';
import { ApiError, getJson } from '../../api.ts';

/** Rows asked for per page: a few screens, so scrolling rarely waits. */
export const PAGE_ROWS = 200;
/** Rows the list keeps at most: past this the browser's memory matters more than more rows (export the rest as CSV). */
export const MAX_ROWS = 50_000;

/** What the list knows of its search. */
export interface CallSearchState {
  readonly rows: readonly CallListRow[];
  /** Cursor of the next page; null when the last page is loaded. */
  readonly next: string | null;
  readonly loading: boolean;
  readonly error: ApiError | null;
  /** Pages loaded so far. */
  readonly pages: number;
  /** The last page: its rows and the server's tookMs. */
  readonly lastPage: { readonly rows: number; readonly tookMs: number } | null;
  /** Rows stopped at {@link MAX_ROWS} with more on the server. */
  readonly capped: boolean;
}

const INITIAL: CallSearchState = { rows: [], next: null, loading: true, error: null, pages: 0, lastPage: null, capped: false };

/**
 * The last search's rows, kept across the page's unmount: back from a call to its list shows the
 * rows already loaded (however deep the user had scrolled) at once instead of searching again.
 * Only a settled state is kept (no request in flight, no error). Enter on the filter bar or a
 * new URL searches afresh.
 */
let remembered: { readonly query: string; readonly state: CallSearchState } | null = null;

const asApiError = (err: unknown): ApiError =>
  err instanceof ApiError ? err : new ApiError(0, 'NETWORK', err instanceof Error ? err.message : String(err));

/**
 * The search of `query` (the API's query string, without cursor and limit; null: not yet, the
 * page is about to replace its URL). `reload` is bumped to run the same search again.
 */
export function useCallSearch(query: string | null, reload: number): CallSearchState & { loadMore: () => void; retry: () => void } {
  const [state, setState] = useState<CallSearchState>(() => (remembered !== null && remembered.query === query ? remembered.state : INITIAL));
  // Set when the state came from memory: the first search is then skipped.
  const restored = useRef(state !== INITIAL);
  const inFlight = useRef<AbortController | null>(null);

  const fetchPage = useCallback(
    (cursor: string | null) => {
      if (query === null) return;
      inFlight.current?.abort();
      const ac = new AbortController();
      inFlight.current = ac;
      setState((s) => (cursor === null ? INITIAL : { ...s, loading: true, error: null }));
      const params: Record<string, string> = Object.fromEntries(new URLSearchParams(query));
      params['limit'] = String(PAGE_ROWS);
      if (cursor !== null) params['cursor'] = cursor;
      getJson<CallSearchPage>('calls', params, ac.signal).then(
        (page) => {
          if (ac.signal.aborted) return;
          inFlight.current = null;
          setState((s) => {
            const rows = cursor === null ? page.calls : s.rows.concat(page.calls);
            const capped = rows.length >= MAX_ROWS && page.next !== null;
            return {
              rows,
              next: capped ? null : page.next,
              loading: false,
              error: null,
              pages: (cursor === null ? 0 : s.pages) + 1,
              lastPage: { rows: page.calls.length, tookMs: page.tookMs },
              capped,
            };
          });
        },
        (err: unknown) => {
          if (ac.signal.aborted) return; // replaced by a newer search: not an error
          inFlight.current = null;
          setState((s) => ({ ...s, loading: false, error: asApiError(err) }));
        },
      );
    },
    [query],
  );

  useEffect(() => {
    if (restored.current) restored.current = false;
    else fetchPage(null);
    return () => inFlight.current?.abort();
  }, [fetchPage, reload]);

  useEffect(() => {
    if (query !== null && !state.loading && state.error === null) remembered = { query, state };
  }, [query, state]);

  const loadMore = useCallback(() => {
    if (state.loading || state.error !== null || state.next === null) return;
    fetchPage(state.next);
  }, [state.loading, state.error, state.next, fetchPage]);

  // A failed next page is retried from its cursor; a failed first page from the start.
  const retry = useCallback(() => {
    fetchPage(state.pages === 0 ? null : state.next);
  }, [state.pages, state.next, fetchPage]);

  return { ...state, loadMore, retry };
}
