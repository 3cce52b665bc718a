/**
 * The browser's door to the GUI server's `/api/v1`: JSON in and out, the session cookie sent by
 * the browser itself, the CSRF token added to every state-changing request, and errors turned
 * into {@link ApiError} carrying the server's error code.
 */
import type { SessionBody } from '../../src/api-types.ts';

/** An error answer of the API: `{"error": {"code", "message"}}` and its HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

let csrfToken: string | null = null;
/** Listeners told when the server says the session is gone (401), so the app shows the login. */
const logoutListeners = new Set<() => void>();

/** Keeps the CSRF token of the current session (from login or `GET /session`). */
export function setSession(session: SessionBody | null): void {
  csrfToken = session?.csrfToken ?? null;
}

/** Calls `listener` whenever a request is refused for want of a session. */
export function onLoggedOut(listener: () => void): () => void {
  logoutListeners.add(listener);
  return () => logoutListeners.delete(listener);
}

/** `path` under `/api/v1` with `query` (undefined and '' values left out). */
export function apiUrl(path: string, query: Readonly<Record<string, string | number | undefined>> = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== '') params.set(key, String(value));
  const qs = params.toString();
  return `/api/v1/${path}${qs ? `?${qs}` : ''}`;
}

async function failure(res: Response): Promise<ApiError> {
  let code = 'HTTP_' + String(res.status);
  let message = res.statusText;
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string } };
    code = body.error?.code ?? code;
    message = body.error?.message ?? message;
  } catch {
    // not JSON: keep the status line
  }
  if (res.status === 401) for (const l of logoutListeners) l();
  return new ApiError(res.status, code, message);
}

/** GET a JSON resource. */
export async function getJson<T>(path: string, query?: Readonly<Record<string, string | number | undefined>>, signal?: AbortSignal): Promise<T> {
  const res = await fetch(apiUrl(path, query), { headers: { accept: 'application/json' }, credentials: 'same-origin', signal: signal ?? null });
  if (!res.ok) throw await failure(res);
  return (await res.json()) as T;
}

/** POST JSON (with the CSRF token); resolves to the JSON answer, or undefined for 204. */
export async function postJson<T>(path: string, body: unknown): Promise<T | undefined> {
  const headers: Record<string, string> = { accept: 'application/json', 'content-type': 'application/json' };
  if (csrfToken !== null) headers['x-csrf-token'] = csrfToken;
  const res = await fetch(apiUrl(path), { method: 'POST', headers, credentials: 'same-origin', body: JSON.stringify(body ?? {}) });
  if (!res.ok) throw await failure(res);
  return res.status === 204 ? undefined : ((await res.json()) as T);
}
