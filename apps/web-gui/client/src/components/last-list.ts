/**
 * The URL of the call list as last shown (its filter, sort and preset), so "Calls" in the header
 * goes back to the user's search from a call's detail instead of starting a new one. Kept for
 * the page's life only: a new tab starts at the plain list.
 */
let lastListUrl = '/calls';

/** Records the list URL now on screen. */
export function rememberListUrl(url: string): void {
  lastListUrl = url;
}

/** The list URL to return to (`/calls` before any list was shown). */
export function listUrl(): string {
  return lastListUrl;
}
