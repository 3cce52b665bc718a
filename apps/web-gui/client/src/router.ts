/**
 * A router of a few lines over the History API: the app's state that a user may want to share
 * (the search filter, the open call) lives in the URL, so every screen is a link.
 */
import { useEffect, useState } from 'preact/hooks';

/** The current location as the app reads it. */
export interface Location {
  readonly path: string;
  readonly query: URLSearchParams;
}

const listeners = new Set<() => void>();
const current = (): Location => ({ path: window.location.pathname, query: new URLSearchParams(window.location.search) });

window.addEventListener('popstate', () => {
  for (const l of listeners) l();
});

/** Goes to `url` (path and query); `replace` edits the current history entry instead of adding one. */
export function navigate(url: string, replace = false): void {
  if (replace) window.history.replaceState(null, '', url);
  else window.history.pushState(null, '', url);
  for (const l of listeners) l();
}

/** The current location; the component re-renders when it changes. */
export function useLocation(): Location {
  const [loc, setLoc] = useState(current);
  useEffect(() => {
    const update = (): void => {
      setLoc(current());
    };
    listeners.add(update);
    return () => {
      listeners.delete(update);
    };
  }, []);
  return loc;
}
