import { apiErrorSender, COMMON_API_ERRORS } from '@callscope/runtime';

/**
 * The one catalogue of manager-api error codes: the common ones of @callscope/runtime and its own.
 * Every error response is `{"error": {"code", "message"}}` with the status below; clients match on `code`,
 * never on the message text. Errors of the sensor daemon's control endpoint are mapped onto these
 * codes (CALL_NOT_ACTIVE passes through as is).
 */
export const API_ERRORS = {
  ...COMMON_API_ERRORS,
  UNAUTHORIZED: { statusCode: 401, message: 'missing or invalid bearer token' },
  METHOD_NOT_ALLOWED: { statusCode: 405, message: 'method not allowed' },
  /** `..` or `.` path segments: no client sends them unnormalised, so it is a probe. */
  BAD_PATH: { statusCode: 400, message: 'dot segments are not allowed in the path' },
  URL_TOO_LONG: { statusCode: 414, message: 'request URL too long' },
  BAD_CALL_ID: { statusCode: 400, message: 'the Call-ID is empty, too long or has control characters' },
  BAD_START: { statusCode: 400, message: 'start must be an ISO UTC time like 2026-11-29T17:00:00.123456Z, from 1970 to 2106' },
  BAD_PARTS: { statusCode: 400, message: 'parts must be a comma-separated subset of sip,rtp' },
  CALL_NOT_FOUND: { statusCode: 404, message: 'no packets of this call in the spool' },
  CALL_NOT_ACTIVE: { statusCode: 404, message: 'no open call with this Call-ID (it may have ended: search the CDRs)' },
  RATE_LIMITED: { statusCode: 429, message: 'too many requests' },
  /** The daemon's control socket does not answer (not running, wrong path, no permission). */
  DAEMON_UNREACHABLE: { statusCode: 503, message: 'the sensor daemon does not answer on its control socket' },
  /** The daemon answered with something this API does not understand (a version mismatch or a bug). */
  DAEMON_ERROR: { statusCode: 502, message: 'the sensor daemon answered with an error' },
  /** The call has no RTP the audio can be rendered from (no RTP file, no packets, no stream on a leg). */
  NO_AUDIO: { statusCode: 404, message: 'the spool holds no audio of this call' },
  /** A stream of the call uses a codec callscope cannot decode (the message names it). */
  UNSUPPORTED_CODEC: { statusCode: 415, message: 'the call uses a codec callscope cannot decode to audio' },
  SPOOL_CORRUPT: { statusCode: 500, message: 'a spool file of this call is not a readable capture' },
} as const;

/** One of the {@link API_ERRORS} codes. */
export type ApiErrorCode = keyof typeof API_ERRORS;

/** Sends a catalogue error; `detail` replaces the generic message when it helps the client. */
export const sendApiError = apiErrorSender(API_ERRORS);

/** JSON schema of every error body (for the OpenAPI document and fast serialisation). */
export const API_ERROR_SCHEMA = {
  type: 'object',
  required: ['error'],
  additionalProperties: false,
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      additionalProperties: false,
      properties: { code: { type: 'string', enum: Object.keys(API_ERRORS) }, message: { type: 'string' } },
    },
  },
} as const;
