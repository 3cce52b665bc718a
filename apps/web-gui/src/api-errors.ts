import { apiErrorSender, COMMON_API_ERRORS } from '@callscope/runtime';

/**
 * The one catalogue of web-gui error codes: for now the common ones of @callscope/runtime (not
 * found, bad request, payload too large, internal). Every error response is `{"error": {"code", "message"}}`;
 * the browser code matches on `code`, never on the message text.
 */
export const API_ERRORS = COMMON_API_ERRORS;

/** One of the {@link API_ERRORS} codes. */
export type ApiErrorCode = keyof typeof API_ERRORS;

/** Sends a catalogue error; `detail` replaces the generic message when it helps the client. */
export const sendApiError = apiErrorSender(API_ERRORS);
