import { apiErrorSender, COMMON_API_ERRORS } from '@callscope/runtime';

/**
 * The one catalogue of web-gui error codes: the common ones of @callscope/runtime (not found, bad
 * request, payload too large, internal) and the call search's own. Every error response is
 * `{"error": {"code", "message"}}`; the browser code matches on `code`, never on the message text.
 */
export const API_ERRORS = {
  ...COMMON_API_ERRORS,
  /** A call search value is malformed or meaningless (bad CIDR, `from` after `to`, range over 400 days, limit 0). */
  BAD_FILTER: { statusCode: 400, message: 'invalid search filter' },
  /** A call list cursor is malformed or belongs to another search (filters or sort changed). */
  BAD_CURSOR: { statusCode: 400, message: 'invalid cursor' },
} as const;

/** One of the {@link API_ERRORS} codes. */
export type ApiErrorCode = keyof typeof API_ERRORS;

/** Sends a catalogue error; `detail` replaces the generic message when it helps the client. */
export const sendApiError = apiErrorSender(API_ERRORS);
