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
  /** No session cookie, or its session is over (logged out, idle or too old): log in again. */
  UNAUTHENTICATED: { statusCode: 401, message: 'log in first' },
  /** Wrong user name or password: one answer for both, so it does not tell which names exist. */
  LOGIN_FAILED: { statusCode: 401, message: 'wrong user name or password' },
  /** A state-changing request without the session's `x-csrf-token`, or sent from another site. */
  CSRF: { statusCode: 403, message: 'missing or wrong CSRF token, or a cross-site request' },
  /** The login body is not `application/json` (a cross-site HTML form cannot send JSON). */
  UNSUPPORTED_MEDIA_TYPE: { statusCode: 415, message: 'the body must be application/json' },
  RATE_LIMITED: { statusCode: 429, message: 'too many attempts' },
  /** The call's sensor has no manager-api in the GUI's `sensors` config. */
  SENSOR_UNKNOWN: { statusCode: 404, message: "the GUI knows no manager-api for this call's sensor" },
  /** The call's sensor did not answer (refused, unreachable, TLS failure). */
  SENSOR_UNREACHABLE: { statusCode: 502, message: "the call's sensor does not answer" },
  /** The call's sensor went silent for `artifacts.timeoutS`. */
  SENSOR_TIMEOUT: { statusCode: 504, message: "the call's sensor did not answer in time" },
  /** The sensor answered with an error the GUI does not pass on (token refused, rate limit, 5xx). */
  SENSOR_ERROR: { statusCode: 502, message: "the call's sensor answered with an error" },
  /** Passed on from the sensor: its spool holds no packets of the call. */
  SPOOL_CALL_NOT_FOUND: { statusCode: 404, message: "the sensor's spool holds no packets of this call (retention may have removed them)" },
  /** Passed on from the sensor: no RTP the audio can be made from. */
  NO_AUDIO: { statusCode: 404, message: 'the sensor holds no audio of this call' },
  /** Passed on from the sensor: a codec it cannot decode (the message names it). */
  UNSUPPORTED_CODEC: { statusCode: 415, message: 'the call uses a codec callscope cannot decode to audio' },
} as const;

/** One of the {@link API_ERRORS} codes. */
export type ApiErrorCode = keyof typeof API_ERRORS;

/** Sends a catalogue error; `detail` replaces the generic message when it helps the client. */
export const sendApiError = apiErrorSender(API_ERRORS);
