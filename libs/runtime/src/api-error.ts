/**
 * The error side of every callscope HTTP service (STYLE.md: "Services keep one catalogue of error
 * codes; HTTP errors carry `code` + message; clients match on `code`"). Each app declares its
 * catalogue; this module sends catalogue errors and maps framework errors onto the codes every
 * catalogue shares. Structural types stand in for fastify's: the replies and errors of fastify
 * have these members, and runtime stays free of the HTTP framework.
 *
 * @packageDocumentation
 */

/** One catalogue entry: the HTTP status and the generic message of a code. */
export interface ApiErrorEntry {
  readonly statusCode: number;
  readonly message: string;
}

/**
 * An app's error catalogue, code -> entry. Every catalogue has the codes
 * {@link httpErrorCode} maps framework errors to.
 */
export type ApiErrorCatalogue = Readonly<Record<string, ApiErrorEntry>> & {
  readonly NOT_FOUND: ApiErrorEntry;
  readonly BAD_REQUEST: ApiErrorEntry;
  readonly PAYLOAD_TOO_LARGE: ApiErrorEntry;
  readonly INTERNAL: ApiErrorEntry;
};

/**
 * The codes every catalogue has, with their generic messages: the ones {@link httpErrorCode} maps
 * framework errors to. An app spreads them into its own catalogue.
 */
export const COMMON_API_ERRORS = {
  NOT_FOUND: { statusCode: 404, message: 'no such resource' },
  BAD_REQUEST: { statusCode: 400, message: 'invalid request' },
  PAYLOAD_TOO_LARGE: { statusCode: 413, message: 'request body too large' },
  INTERNAL: { statusCode: 500, message: 'internal error' },
} as const satisfies ApiErrorCatalogue;

/** Body of every error response: `{"error": {"code", "message"}}` (DESIGN.md, manager-api). */
export interface ApiErrorBody<Code extends string = string> {
  readonly error: { readonly code: Code; readonly message: string };
}

/** The members of an HTTP reply an error is sent with (fastify's `FastifyReply` has them). */
export interface ApiErrorReply {
  code(statusCode: number): this;
  type(contentType: string): this;
  send(payload?: unknown): this;
}

/** Sends catalogue errors: `(reply, code, detail?)`; `detail` replaces the generic message. */
export type ApiErrorSender<Code extends string> = <R extends ApiErrorReply>(reply: R, code: Code, detail?: string) => R;

/** The sender of `catalogue`'s errors: JSON `{"error": {"code", "message"}}` with the code's status. */
export function apiErrorSender<C extends ApiErrorCatalogue>(catalogue: C): ApiErrorSender<keyof C & string> {
  return (reply, code, detail) => {
    const entry = catalogue[code]!;
    const body: ApiErrorBody = { error: { code, message: detail ?? entry.message } };
    return reply.code(entry.statusCode).type('application/json; charset=utf-8').send(body);
  };
}

/** What {@link httpErrorCode} reads of a framework error (fastify's `FastifyError` has it). */
export interface HttpErrorLike {
  readonly statusCode?: number;
  readonly validation?: unknown;
  readonly message: string;
}

/**
 * The catalogue code of an error a request handler or the framework raised: a failed schema
 * validation is `BAD_REQUEST` with its message; 413 is `PAYLOAD_TOO_LARGE`; 405 is
 * `METHOD_NOT_ALLOWED` where the catalogue has that code; any other 4xx is `BAD_REQUEST` with the
 * error's message; anything else is `INTERNAL` (a bug or an outage: the caller logs it).
 */
export function httpErrorCode<C extends ApiErrorCatalogue>(
  catalogue: C,
  error: HttpErrorLike,
): { readonly code: keyof C & string; readonly detail: string | undefined } {
  const status = error.statusCode;
  if (error.validation !== undefined) return { code: 'BAD_REQUEST', detail: error.message };
  if (status === 413) return { code: 'PAYLOAD_TOO_LARGE', detail: undefined };
  if (status === 405 && 'METHOD_NOT_ALLOWED' in catalogue) return { code: 'METHOD_NOT_ALLOWED', detail: undefined };
  if (status !== undefined && status >= 400 && status < 500) return { code: 'BAD_REQUEST', detail: error.message };
  return { code: 'INTERNAL', detail: undefined };
}
