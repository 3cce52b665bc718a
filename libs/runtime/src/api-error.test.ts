import { describe, expect, it } from 'vitest';
import { apiErrorSender, COMMON_API_ERRORS, httpErrorCode } from './api-error.js';
import type { ApiErrorReply } from './api-error.js';

const CATALOGUE = COMMON_API_ERRORS;
const WITH_405 = { ...CATALOGUE, METHOD_NOT_ALLOWED: { statusCode: 405, message: 'method not allowed' } } as const;

/** Records the calls a sender makes, as fastify's reply would receive them. */
class RecordingReply implements ApiErrorReply {
  readonly calls: unknown[][] = [];
  code(statusCode: number): this {
    this.calls.push(['code', statusCode]);
    return this;
  }
  type(contentType: string): this {
    this.calls.push(['type', contentType]);
    return this;
  }
  send(payload?: unknown): this {
    this.calls.push(['send', payload]);
    return this;
  }
}

describe('apiErrorSender', () => {
  const send = apiErrorSender(CATALOGUE);

  it('sends {"error": {code, message}} as JSON with the code status; a detail replaces the message', () => {
    const a = new RecordingReply();
    expect(send(a, 'NOT_FOUND')).toBe(a);
    expect(a.calls).toEqual([['code', 404], ['type', 'application/json; charset=utf-8'], ['send', { error: { code: 'NOT_FOUND', message: 'no such resource' } }]]);
    const b = new RecordingReply();
    send(b, 'BAD_REQUEST', 'body/x must be integer');
    expect(b.calls.at(-1)).toEqual(['send', { error: { code: 'BAD_REQUEST', message: 'body/x must be integer' } }]);
  });
});

describe('httpErrorCode', () => {
  it.each([
    [{ statusCode: 400, validation: [], message: 'body/x must be integer' }, 'BAD_REQUEST', 'body/x must be integer'],
    [{ validation: [], message: 'querystring/a is required' }, 'BAD_REQUEST', 'querystring/a is required'],
    [{ statusCode: 413, message: 'Request body is too large' }, 'PAYLOAD_TOO_LARGE', undefined],
    [{ statusCode: 415, message: 'Unsupported Media Type' }, 'BAD_REQUEST', 'Unsupported Media Type'],
    [{ statusCode: 405, message: 'Method Not Allowed' }, 'BAD_REQUEST', 'Method Not Allowed'],
    [{ statusCode: 503, message: 'db down' }, 'INTERNAL', undefined],
    [{ message: 'TypeError: x is undefined' }, 'INTERNAL', undefined],
  ])('maps %j to %s', (error, code, detail) => {
    expect(httpErrorCode(CATALOGUE, error)).toEqual({ code, detail });
  });

  it('maps 405 to METHOD_NOT_ALLOWED only where the catalogue has it', () => {
    expect(httpErrorCode(WITH_405, { statusCode: 405, message: 'Method Not Allowed' })).toEqual({ code: 'METHOD_NOT_ALLOWED', detail: undefined });
  });
});
