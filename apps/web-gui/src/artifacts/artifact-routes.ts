import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { Pool } from 'mysql2/promise';
import { isoFromMicros, parseIsoMicros } from '@callscope/cdr-model';
import { getCallKey } from '@callscope/cdr-schema';
import { API_ERRORS, sendApiError } from '../api-errors.js';
import type { ApiErrorCode } from '../api-errors.js';
import type { SensorRegistry } from '../sensors/sensor-registry.js';
import { readSmallBody, requestUpstream, UpstreamError } from './upstream.js';

/** The per-call artifacts the GUI proxies, each the manager-api route of the same name. */
export const ARTIFACT_KINDS = ['sip', 'streams', 'pcap', 'audio'] as const;

/** One of {@link ARTIFACT_KINDS}. */
export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];

/** What the artifact routes need. */
export interface ArtifactRoutesOptions {
  readonly db: Pool;
  readonly sensors: SensorRegistry;
  /** Longest silence of a manager-api before or within its answer, ms. */
  readonly idleTimeoutMs: number;
}

/** Response headers passed from the manager-api to the browser (all others are the GUI's own). */
const PASSED_HEADERS = ['content-type', 'content-length', 'content-disposition'] as const;
/** Largest error body read from a manager-api. */
const MAX_ERROR_BODY = 64 * 1024;
/** manager-api error codes passed on to the browser as GUI codes (404/415 about the call itself). */
const PASSED_CODES: Readonly<Record<string, ApiErrorCode>> = {
  CALL_NOT_FOUND: 'SPOOL_CALL_NOT_FOUND',
  NO_AUDIO: 'NO_AUDIO',
  UNSUPPORTED_CODEC: 'UNSUPPORTED_CODEC',
};

const paramsSchema = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', pattern: '^[1-9][0-9]{0,15}$', description: 'cdr.id' } },
} as const;
const startProperty = { type: 'string', minLength: 1, maxLength: 40, description: 'Call start as listed (ISO UTC, microseconds).' } as const;

interface ArtifactRequest {
  Params: { id: string };
  Querystring: { start: string; legs?: string };
}

/** Maps a manager-api error answer onto the GUI's catalogue, with a message for the browser. */
function upstreamErrorCode(status: number, bodyText: string): { code: ApiErrorCode; detail: string | undefined; upstreamCode: string | null } {
  let upstreamCode: string | null = null;
  let message: string | undefined;
  try {
    const body = JSON.parse(bodyText) as { error?: { code?: unknown; message?: unknown } };
    if (typeof body.error?.code === 'string') upstreamCode = body.error.code;
    if (typeof body.error?.message === 'string') message = body.error.message;
  } catch {
    // not the manager-api's JSON (a proxy's HTML page): reported by status alone
  }
  const passed = upstreamCode === null ? undefined : PASSED_CODES[upstreamCode];
  if (passed !== undefined && API_ERRORS[passed].statusCode === status) {
    // The codec's name is in the message, and worth showing; the spool's wording is not.
    return { code: passed, detail: passed === 'UNSUPPORTED_CODEC' ? message : undefined, upstreamCode };
  }
  const why = status === 401 ? 'refused the GUI token (check sensors[].token)' : status === 429 ? 'is rate-limiting the GUI' : `answered ${status}${upstreamCode === null ? '' : ` ${upstreamCode}`}`;
  return { code: 'SENSOR_ERROR', detail: `the call's sensor ${why}`, upstreamCode };
}

/**
 * `GET /calls/{id}/sip|streams|pcap|audio?start=ISO[&legs=]` under the prefix it is registered
 * with (`/api/v1`): the call is looked up by its CDR key (id, start) in the database, its sensor
 * found by name in the {@link SensorRegistry}, and the manager-api's answer for the call's Call-ID
 * and start streamed through: status, Content-Type, Content-Length and Content-Disposition
 * passed, the body never held whole (Node's back-pressure paces the sensor by the browser), the
 * sensor's request aborted when the browser goes away, and a silent sensor given up after
 * {@link ArtifactRoutesOptions.idleTimeoutMs}. The browser names only a CDR, never a sensor, a
 * Call-ID or a path. HEAD asks the manager-api with HEAD.
 */
export const artifactRoutes: FastifyPluginAsync<ArtifactRoutesOptions> = (app, options) => {
  const { db, sensors, idleTimeoutMs } = options;

  async function proxy(kind: ArtifactKind, request: FastifyRequest<ArtifactRequest>, reply: FastifyReply): Promise<FastifyReply> {
    const start = parseIsoMicros(request.query.start);
    if (start === null) return sendApiError(reply, 'BAD_REQUEST', 'start must be an ISO UTC time like 2026-11-29T17:00:00.123456Z');
    const key = await getCallKey(db, Number(request.params.id), isoFromMicros(start.sec * 1_000_000 + start.usec));
    if (key === null) return sendApiError(reply, 'NOT_FOUND', 'no call with this id and start');
    const target = await sensors.resolve(key.sensorName);
    if (target === null) return sendApiError(reply, 'SENSOR_UNKNOWN', `the GUI knows no manager-api for sensor ${key.sensorName}`);

    const url = new URL(target.baseUrl);
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/api/v1/calls/${encodeURIComponent(key.callId)}/${kind}`;
    url.search = '';
    url.searchParams.set('start', key.start);
    // A central sniffer spools the calls of every sensor that mirrors to it, and two of them may
    // see one Call-ID at one start (a call through two PBXes): the sensor picks the right one.
    url.searchParams.set('sensor', key.sensorName);
    if (kind === 'audio') url.searchParams.set('legs', request.query.legs ?? 'stereo');

    // The browser leaving (tab closed, download cancelled) aborts the sensor's request, before
    // or during the body.
    const gone = new AbortController();
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) gone.abort();
    });
    const log = request.log.child({ sensor: key.sensorName, callId: key.callId, artifact: kind });
    let upstream: IncomingMessage;
    try {
      upstream = await requestUpstream({ url, method: request.method === 'HEAD' ? 'HEAD' : 'GET', token: target.token, idleTimeoutMs, signal: gone.signal });
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err;
      if (err.kind === 'aborted') {
        log.debug('browser went away before the sensor answered');
        return reply;
      }
      log.warn({ reason: err.message }, err.kind === 'timeout' ? 'sensor timed out' : 'sensor unreachable');
      return sendApiError(reply, err.kind === 'timeout' ? 'SENSOR_TIMEOUT' : 'SENSOR_UNREACHABLE', `sensor ${key.sensorName}: ${err.message}`);
    }
    const status = upstream.statusCode ?? 502;
    if (status !== 200) {
      const text = request.method === 'HEAD' ? '' : await readSmallBody(upstream, MAX_ERROR_BODY);
      const { code, detail, upstreamCode } = upstreamErrorCode(status, text);
      if (code === 'SENSOR_ERROR') log.warn({ status, upstreamCode }, 'sensor answered with an error');
      return sendApiError(reply, code, detail);
    }
    for (const name of PASSED_HEADERS) {
      const value = upstream.headers[name];
      if (value !== undefined) void reply.header(name, value);
    }
    // Call data is personal: never stored by the browser or a proxy.
    void reply.code(200).header('cache-control', 'no-store');
    if (request.method === 'HEAD') {
      upstream.resume();
      return reply.send();
    }
    upstream.on('error', (err) => {
      // Headers are out: the browser sees the body cut short (and Content-Length tells it so).
      log.warn({ err: err.message }, 'sensor stream failed after the headers were sent');
    });
    return reply.send(upstream);
  }

  for (const kind of ARTIFACT_KINDS) {
    const querystring = {
      type: 'object',
      required: ['start'],
      additionalProperties: false,
      properties:
        kind === 'audio'
          ? { start: startProperty, legs: { type: 'string', enum: ['stereo', 'caller', 'callee', 'mixed'], description: 'stereo: caller left, callee right.' } }
          : { start: startProperty },
    } as const;
    app.get<ArtifactRequest>(`/calls/:id/${kind}`, { schema: { params: paramsSchema, querystring } }, (request, reply) => proxy(kind, request, reply));
  }
  return Promise.resolve();
};
