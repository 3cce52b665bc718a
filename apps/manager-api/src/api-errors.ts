import { apiErrorSender, COMMON_API_ERRORS } from '@callscope/runtime';

/**
 * The one catalogue of manager-api error codes: the common ones of @callscope/runtime and its own.
 * Every error response is `{ code, message }` with the status below; clients match on `code`,
 * never on the message text.
 */
export const API_ERRORS = {
  ...COMMON_API_ERRORS,
  UNAUTHORIZED: { statusCode: 401, message: 'missing or invalid bearer token' },
  METHOD_NOT_ALLOWED: { statusCode: 405, message: 'method not allowed' },
} as const;

/** One of the {@link API_ERRORS} codes. */
export type ApiErrorCode = keyof typeof API_ERRORS;

/** Sends a catalogue error; `detail` replaces the generic message when it helps the client. */
export const sendApiError = apiErrorSender(API_ERRORS);
