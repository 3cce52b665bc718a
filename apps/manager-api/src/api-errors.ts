import { apiErrorSender } from '@callscope/runtime';

/**
 * The one catalogue of manager-api error codes. Every error response is `{ code, message }`
 * with the status below; clients match on `code`, never on the message text.
 */
export const API_ERRORS = {
  UNAUTHORIZED: { statusCode: 401, message: 'missing or invalid bearer token' },
  NOT_FOUND: { statusCode: 404, message: 'no such resource' },
  METHOD_NOT_ALLOWED: { statusCode: 405, message: 'method not allowed' },
  BAD_REQUEST: { statusCode: 400, message: 'invalid request' },
  PAYLOAD_TOO_LARGE: { statusCode: 413, message: 'request body too large' },
  INTERNAL: { statusCode: 500, message: 'internal error' },
} as const;

/** One of the {@link API_ERRORS} codes. */
export type ApiErrorCode = keyof typeof API_ERRORS;

/** Sends a catalogue error; `detail` replaces the generic message when it helps the client. */
export const sendApiError = apiErrorSender(API_ERRORS);
