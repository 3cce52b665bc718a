/**
 * One API resource as a component sees it: loading, its data, or the error. Each part of the call
 * detail loads its own resource, so every request starts at once (no waterfall) and each part
 * shows its own state: the header appears as soon as the CDR arrives, whatever the sensor does.
 */
import { useLayoutEffect, useState } from 'preact/hooks';
import { ApiError, getJson } from '../../api.ts';

/** State of one resource. */
export type Resource<T> =
  | { readonly state: 'loading' }
  | { readonly state: 'ok'; readonly data: T }
  | { readonly state: 'error'; readonly error: ApiError };

/** Turns any failure into an ApiError (a network failure has status 0 and code `NETWORK`). */
export function asApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  return new ApiError(0, 'NETWORK', err instanceof Error ? err.message : String(err));
}

/**
 * GETs `path` under `/api/v1` with `query`; a change of path or query aborts the previous request
 * and starts again.
 */
export function useApi<T>(path: string, query: Readonly<Record<string, string>>): Resource<T> {
  const [res, setRes] = useState<Resource<T>>({ state: 'loading' });
  const key = `${path}?${new URLSearchParams(query).toString()}`;
  // A layout effect runs right after the render, where an effect waits for the next frame: the
  // request leaves a frame (or more on a busy machine) earlier.
  useLayoutEffect(() => {
    const ac = new AbortController();
    setRes({ state: 'loading' });
    getJson<T>(path, query, ac.signal).then(
      (data) => {
        setRes({ state: 'ok', data });
      },
      (err: unknown) => {
        if (!ac.signal.aborted) setRes({ state: 'error', error: asApiError(err) });
      },
    );
    return () => {
      ac.abort();
    };
    // `key` stands for path and query (the query is a new object each render).
  }, [key]);
  return res;
}
