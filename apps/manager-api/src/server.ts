import { stat } from 'node:fs/promises';
import type { OutgoingHttpHeaders } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { fastify, LogController } from 'fastify';
import type { FastifyInstance, FastifyRequest, FastifyReply, FastifyError } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import { MergedCaptureFormat, openCallPcap, SpoolError, SpoolErrorCode, writeCallPcap } from '@callscope/pcap-store';
import type { CallPcapStream } from '@callscope/pcap-store';
import { NoCallAudioError, openCallAudio, readCallSip, readCallStreamSeries, type CallAudio, type CallSipLadder, type CallStreamSeries } from '@callscope/call-artifacts';
import { UnsupportedCodecError, type AudioLegsLayout } from '@callscope/rtp';
import { SIP_LADDER_SCHEMA, STREAM_SERIES_SCHEMA } from './artifact-schemas.js';
import { SharedResults } from './shared-results.js';
import { httpErrorCode } from '@callscope/runtime';
import type { DeepReadonly, Logger } from '@callscope/runtime';
import { API_ERROR_SCHEMA, API_ERRORS, sendApiError } from './api-errors.js';
import type { ApiErrorCode } from './api-errors.js';
import { isAcceptableCallId, MAX_CALL_ID_LENGTH, MAX_URL_LENGTH, parseCallStart, parseParts, pcapFileName } from './call-input.js';
import type { ManagerApiConfig } from './config.js';
import { MANAGER_API_APP } from './config.js';
import { ControlClient, controlError, ControlUnreachableError } from './control-client.js';
import { ManagerApiMetrics } from './metrics.js';
import { TokenVerifier } from './token-hash.js';

/** What {@link buildServer} needs besides the config. */
export interface ManagerApiDeps {
  /** Root logger (a `component: 'http'` child is used); omit for silence in tests. */
  readonly logger?: Logger;
  /** Release reported by health and metrics. */
  readonly version: string;
  /** PEM certificate and key contents when the config enables TLS (main reads the files). */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer } | null;
}

/** Body of `GET /api/v1/health`. */
export interface HealthBody {
  readonly status: 'ok';
  readonly version: string;
  readonly uptimeS: number;
}

/** Body of `GET /api/v1/stats`. */
export interface StatsBody {
  /** `ok`: `sensor` is the daemon's `/stats`; `unreachable`: no daemon answers (pcaps are still served). */
  readonly daemon: 'ok' | 'unreachable';
  /** Why the daemon could not be asked (only when unreachable). */
  readonly reason?: string;
  readonly sensor: unknown;
  readonly spool: { readonly dir: string; readonly exists: boolean };
}

/** Daemon `limit` bound (sniffer control-server MAX_ACTIVE_CALLS_LISTED). */
const MAX_ACTIVE_LIMIT = 10_000;
/** Paths served without a token: liveness, the scraper's metrics and the API description. */
const OPEN_PATHS = new Set(['/api/v1/health', '/metrics', '/openapi.json']);
const PCAP_CONTENT_TYPE = 'application/vnd.tcpdump.pcap';
const PCAPNG_CONTENT_TYPE = 'application/x-pcapng';

const errors = (...statuses: number[]): Record<number, typeof API_ERROR_SCHEMA> => Object.fromEntries(statuses.map((s) => [s, API_ERROR_SCHEMA]));
const callIdParams = {
  type: 'object',
  required: ['callId'],
  additionalProperties: false,
  properties: { callId: { type: 'string', minLength: 1, maxLength: MAX_CALL_ID_LENGTH, description: 'Call-ID as stored in the CDR (percent-encoded in the URL).' } },
} as const;
/** How long a computed stream series is reused, and how many are kept. */
const SERIES_CACHE_MS = 10_000;
const SERIES_CACHE_ENTRIES = 32;

/** `?start=` of the per-call artifact routes. */
/**
 * The `sensor` query of the per-call routes: a central sniffer spools the calls of several
 * mirrored sensors, and two of them may hold the same Call-ID at the same start.
 */
const sensorProperty = {
  type: 'string',
  minLength: 1,
  maxLength: 256,
  description: "Only the packets this sensor saw (the CDR's sensor). Default: every sensor's (two sensors may hold the same Call-ID and start).",
} as const;

const startQuery = {
  type: 'object',
  required: ['start'],
  additionalProperties: false,
  properties: { start: { type: 'string', maxLength: 40, description: 'Call start as stored in the CDR, ISO UTC with microseconds.' }, sensor: sensorProperty },
} as const;

const passThrough = { type: 'object', additionalProperties: true, description: "The sensor daemon's JSON, unchanged." } as const;

declare module 'fastify' {
  interface FastifyRequest {
    /** Name of the verified token (null on open paths or when no tokens are configured). */
    tokenName: string | null;
  }
}

/** Whether a raw request path has `.` or `..` segments (also percent-encoded). */
function hasDotSegment(path: string): boolean {
  for (const segment of path.split('/')) {
    const s = segment.toLowerCase().replace(/%2e/g, '.');
    if (s === '.' || s === '..') return true;
  }
  return false;
}

/**
 * Builds the manager-api HTTP server (not listening yet). Routes under `/api/v1`: `health`
 * (open), `stats`, `calls/active`, `calls/active/{callId}`, `calls/{callId}/pcap`; plus `/metrics`
 * (open, Prometheus) and `/openapi.json` (open, generated from the route schemas). When tokens
 * are configured every other path, known or not, needs `Authorization: Bearer <token>`. Every
 * request is rate-limited per verified token, else per client address. Every error is
 * `{"error": {"code", "message"}}` from {@link API_ERRORS}.
 *
 * Per call also `calls/{callId}/sip|streams|audio` (libs/call-artifacts). Another method on a
 * known path is 405 `METHOD_NOT_ALLOWED` with `Allow: GET, HEAD`.
 */
export function buildServer(config: DeepReadonly<ManagerApiConfig>, deps: ManagerApiDeps): FastifyInstance {
  const tls = deps.tls ?? null;
  // fastify types an HTTPS instance as a different class; routes and inject() are the same.
  const app = fastify({
    loggerInstance: deps.logger?.child({ component: 'http' }),
    // One debug line per request from the onResponse hook instead of two info lines.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
    // Call-IDs are long (up to 1024 characters, x3 percent-encoded); the URL check below bounds it.
    routerOptions: { maxParamLength: MAX_CALL_ID_LENGTH * 3 },
    ...(tls === null ? {} : { https: { cert: tls.cert, key: tls.key } }),
  }) as unknown as FastifyInstance;

  const control = new ControlClient(config.control);
  const metrics = new ManagerApiMetrics({
    app: MANAGER_API_APP,
    version: deps.version,
    daemonUp: () =>
      control.get('/stats').then(
        (a) => a.status === 200,
        () => false,
      ),
  });
  const verifier = config.tokens.length > 0 ? new TokenVerifier(config.tokens) : null;
  app.decorateRequest('tokenName', null);

  app.addHook('onResponse', (request, reply, done) => {
    metrics.countResponse(request.routeOptions.url, reply.statusCode);
    request.log.debug({ method: request.method, url: request.url, statusCode: reply.statusCode, ms: reply.elapsedTime, tokenName: request.tokenName }, 'request');
    done();
  });

  // First, before any work: bound the URL and refuse dot segments (a traversal probe).
  app.addHook('onRequest', (request, reply, next) => {
    const url = request.url;
    if (url.length > MAX_URL_LENGTH) {
      void sendApiError(reply, 'URL_TOO_LONG', `request URL over ${MAX_URL_LENGTH} characters`);
      return;
    }
    if (hasDotSegment(url.split('?', 1)[0]!)) {
      request.log.info({ ip: request.ip, url }, 'refused a path with dot segments');
      void sendApiError(reply, 'BAD_PATH');
      return;
    }
    next();
  });

  if (verifier !== null) {
    // preParsing, not onRequest: the rate limiter (route-level onRequest) runs first, so wrong
    // tokens are rate-limited before they cost an scrypt. Unknown paths are refused too, so
    // probing does not bypass the token.
    app.addHook('preParsing', async (request, reply) => {
      if (OPEN_PATHS.has(request.url.split('?', 1)[0]!)) return;
      // Unmatched paths are rate-limited only after this hook (fastify runs not-found hooks from
      // preValidation on), so they accept a token this process already verified and never pay an
      // scrypt: a flood of guesses at unknown paths costs a SHA-256 each.
      const cached = request.routeOptions.url === undefined ? verifier.cachedName(request.headers.authorization) : null;
      const outcome =
        request.routeOptions.url !== undefined
          ? await verifier.check(request.headers.authorization)
          : cached !== null
            ? ({ ok: true, name: cached } as const)
            : ({ ok: false, reason: request.headers.authorization === undefined ? 'missing' : 'invalid' } as const);
      if (outcome.ok) {
        request.tokenName = outcome.name;
        return;
      }
      request.log.info({ outcome: outcome.reason, ip: request.ip, url: request.url }, 'rejected unauthenticated request');
      // RFC 6750 §3: tell the client which scheme to use and why it failed.
      void reply.header('www-authenticate', outcome.reason === 'missing' ? 'Bearer realm="callscope"' : 'Bearer realm="callscope", error="invalid_token"');
      return sendApiError(reply, 'UNAUTHORIZED');
    });
  }

  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (error.statusCode === 429) return sendApiError(reply, 'RATE_LIMITED', error.message);
    const { code, detail } = httpErrorCode(API_ERRORS, error);
    if (code === 'INTERNAL') request.log.error({ err: error }, 'request failed');
    return sendApiError(reply, code, detail);
  });

  void app.register(rateLimit, {
    global: true,
    max: config.rateLimit.max,
    timeWindow: config.rateLimit.windowS * 1000,
    // A verified token has its own bucket; anything else (no token, a wrong one, a token not yet
    // verified by this process) counts against the client address.
    keyGenerator: (request) => {
      const name = verifier?.cachedName(request.headers.authorization) ?? null;
      return name === null ? `ip:${request.ip}` : `token:${name}`;
    },
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      message: `${API_ERRORS.RATE_LIMITED.message}: at most ${context.max} per ${context.after}`,
    }),
  });
  void app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'callscope manager-api', version: deps.version, description: 'Per-sensor API: live state from the sensor daemon, call pcaps from the spool.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });

  void app.register((api: FastifyInstance, _opts, done) => {
    api.setNotFoundHandler({ preValidation: api.rateLimit() }, (_request, reply) => sendApiError(reply, 'NOT_FOUND'));
    // Every path here is read-only: another method on a known path is 405 with Allow (RFC 9110
    // §15.5.6), not the 404 of an unknown path. Collected as the GET routes register.
    const readOnlyPaths: string[] = [];
    api.addHook('onRoute', (route) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      if (methods.includes('GET')) readOnlyPaths.push(route.url);
    });

    api.get('/openapi.json', { schema: { hide: true } }, () => api.swagger());

    api.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
      const { contentType, text } = await metrics.render();
      return reply.type(contentType).send(text);
    });

    api.get(
      '/api/v1/health',
      {
        schema: {
          summary: 'Liveness (no token needed)',
          security: [],
          response: {
            200: { type: 'object', required: ['status', 'version', 'uptimeS'], additionalProperties: false, properties: { status: { type: 'string', enum: ['ok'] }, version: { type: 'string' }, uptimeS: { type: 'number' } } },
            ...errors(429),
          },
        },
      },
      (): HealthBody => ({ status: 'ok', version: deps.version, uptimeS: Math.round(process.uptime() * 1000) / 1000 }),
    );

    api.get(
      '/api/v1/stats',
      {
        schema: {
          summary: "The sensor daemon's counters, or daemon: unreachable (then pcaps are still served from the spool)",
          response: {
            200: {
              type: 'object',
              required: ['daemon', 'sensor', 'spool'],
              additionalProperties: false,
              properties: {
                daemon: { type: 'string', enum: ['ok', 'unreachable'] },
                reason: { type: 'string' },
                sensor: { ...passThrough, nullable: true },
                spool: { type: 'object', required: ['dir', 'exists'], additionalProperties: false, properties: { dir: { type: 'string' }, exists: { type: 'boolean' } } },
              },
            },
            ...errors(401, 429, 502),
          },
        },
      },
      async (request, reply): Promise<StatsBody | FastifyReply> => {
        const spool = { dir: config.spool.dir, exists: await isDirectory(config.spool.dir) };
        let answer;
        try {
          answer = await control.get('/stats');
        } catch (err) {
          if (!(err instanceof ControlUnreachableError)) throw err;
          request.log.debug({ reason: err.message }, 'sensor daemon unreachable');
          return { daemon: 'unreachable', reason: err.message, sensor: null, spool };
        }
        if (answer.status !== 200) return daemonError(reply, answer.body);
        return { daemon: 'ok', sensor: answer.body, spool };
      },
    );

    api.get<{ Querystring: { limit: number } }>(
      '/api/v1/calls/active',
      {
        schema: {
          summary: 'Open calls on the sensor, from the daemon',
          querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum: MAX_ACTIVE_LIMIT, default: 1000 } } },
          response: {
            200: { type: 'object', required: ['calls'], additionalProperties: false, properties: { calls: { type: 'array', items: passThrough } } },
            ...errors(400, 401, 429, 502, 503),
          },
        },
      },
      async (request, reply) => {
        const answer = await askDaemon(reply, `/calls/active?limit=${request.query.limit}`);
        if (answer === null) return reply;
        if (!Array.isArray(answer)) return daemonError(reply, answer);
        return { calls: answer as unknown[] };
      },
    );

    api.get<{ Params: { callId: string } }>(
      '/api/v1/calls/active/:callId',
      { schema: { summary: 'One open call with its provisional CDR, from the daemon', params: callIdParams, response: { 200: passThrough, ...errors(400, 401, 404, 429, 502, 503) } } },
      async (request, reply) => {
        const { callId } = request.params;
        if (!isAcceptableCallId(callId)) return sendApiError(reply, 'BAD_CALL_ID');
        const answer = await askDaemon(reply, `/calls/active/${encodeURIComponent(callId)}`);
        return answer ?? reply;
      },
    );

    /** Call-ID and start of a per-call artifact request, checked; on failure the error is sent and null returned. */
    const callQuery = (reply: FastifyReply, callId: string, startText: string, sensor?: string): { callId: string; startSec: number; startUsec: number; sensor?: string } | null => {
      if (!isAcceptableCallId(callId)) {
        void sendApiError(reply, 'BAD_CALL_ID');
        return null;
      }
      const start = parseCallStart(startText);
      if (start === null) {
        void sendApiError(reply, 'BAD_START');
        return null;
      }
      return { callId, startSec: start.sec, startUsec: start.usec, ...(sensor === undefined ? {} : { sensor }) };
    };
    /** Maps the spool's errors of a per-call read onto the catalogue; rethrows anything else. */
    const spoolFailure = (request: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply => {
      if (!(err instanceof SpoolError)) throw err;
      if (err.code === SpoolErrorCode.CorruptFile) request.log.error({ err }, 'corrupt spool file');
      return sendApiError(reply, err.code === SpoolErrorCode.CallNotFound ? 'CALL_NOT_FOUND' : 'SPOOL_CORRUPT');
    };

    api.get<{ Params: { callId: string }; Querystring: { start: string; parts?: string; sensor?: string } }>(
      '/api/v1/calls/:callId/pcap',
      {
        schema: {
          summary: "The call's packets from the spool as one time-ordered capture (pcap, or pcapng over several link types)",
          params: callIdParams,
          querystring: {
            type: 'object',
            required: ['start'],
            additionalProperties: false,
            properties: {
              start: { type: 'string', maxLength: 40, description: 'Call start as stored in the CDR, ISO UTC with microseconds.' },
              parts: { type: 'string', maxLength: 16, description: 'sip, rtp or sip,rtp (default).' },
              sensor: sensorProperty,
            },
          },
          response: {
            200: { description: 'application/vnd.tcpdump.pcap or application/x-pcapng, streamed', type: 'string', format: 'binary' },
            ...errors(400, 401, 404, 429, 500),
          },
        },
      },
      async (request, reply) => {
        const query = callQuery(reply, request.params.callId, request.query.start, request.query.sensor);
        if (query === null) return reply;
        const { callId } = query;
        const start = { sec: query.startSec, usec: query.startUsec };
        const kinds = parseParts(request.query.parts);
        if (kinds === null) return sendApiError(reply, 'BAD_PARTS');
        let capture: CallPcapStream;
        try {
          capture = await openCallPcap(config.spool.dir, { ...query, kinds }, { recycle: true });
        } catch (err) {
          return spoolFailure(request, reply, err);
        }
        const pcapng = capture.format === MergedCaptureFormat.PCAPNG;
        void reply
          .type(pcapng ? PCAPNG_CONTENT_TYPE : PCAP_CONTENT_TYPE)
          .header('content-disposition', `attachment; filename="${pcapFileName(callId, start, pcapng ? 'pcapng' : 'pcap')}"`)
          .header('cache-control', 'no-store');
        if (request.method === 'HEAD') {
          // fastify's HEAD route would drain a streamed body; the call exists, which is all HEAD asks.
          await capture.close();
          return reply.send('');
        }
        await sendRecycled(reply, capture, (err) => {
          request.log.error({ err, callId }, 'pcap stream failed after the headers were sent');
        });
        request.log.debug({ callId, ...capture.summary }, 'pcap sent');
        return reply;
      },
    );
    // Series cost a pass over all of a call's RTP (about 1 s for a one-hour call): concurrent
    // requests for one call share that pass, and the answer is reused for a few seconds (a GUI
    // opening a call asks for it more than once).
    const seriesCache = new SharedResults<CallStreamSeries>(SERIES_CACHE_MS, SERIES_CACHE_ENTRIES);

    api.get<{ Params: { callId: string }; Querystring: { start: string; sensor?: string } }>(
      '/api/v1/calls/:callId/sip',
      {
        schema: {
          summary: "The call's SIP messages from the spool, for a ladder: time (µs), addresses, transport, first line, headers, body, retransmission flag, raw text",
          params: callIdParams,
          querystring: startQuery,
          response: { 200: SIP_LADDER_SCHEMA, ...errors(400, 401, 404, 429, 500) },
        },
      },
      async (request, reply) => {
        const query = callQuery(reply, request.params.callId, request.query.start, request.query.sensor);
        if (query === null) return reply;
        let ladder: CallSipLadder | null;
        try {
          ladder = await readCallSip(config.spool.dir, query);
        } catch (err) {
          return spoolFailure(request, reply, err);
        }
        if (ladder === null) return sendApiError(reply, 'CALL_NOT_FOUND', 'no SIP of this call in the spool');
        void reply.header('cache-control', 'no-store');
        return ladder;
      },
    );

    api.get<{ Params: { callId: string }; Querystring: { start: string; sensor?: string } }>(
      '/api/v1/calls/:callId/streams',
      {
        schema: {
          summary: "Per RTP stream of the call, 1-second series (packets, lost, max jitter, max delta, MOS) computed from the spooled RTP with libs/rtp",
          params: callIdParams,
          querystring: startQuery,
          response: { 200: STREAM_SERIES_SCHEMA, ...errors(400, 401, 404, 429, 500) },
        },
      },
      async (request, reply) => {
        const query = callQuery(reply, request.params.callId, request.query.start, request.query.sensor);
        if (query === null) return reply;
        let series: CallStreamSeries;
        try {
          series = await seriesCache.get(`${query.callId}\0${query.startSec}.${query.startUsec}\0${query.sensor ?? '*'}`, () => readCallStreamSeries(config.spool.dir, query));
        } catch (err) {
          return spoolFailure(request, reply, err);
        }
        if (series.rtpMissing && series.sipMissing) return sendApiError(reply, 'CALL_NOT_FOUND');
        void reply.header('cache-control', 'no-store');
        return series;
      },
    );
    api.get<{ Params: { callId: string }; Querystring: { start: string; format?: string; legs?: string; sensor?: string } }>(
      '/api/v1/calls/:callId/audio',
      {
        schema: {
          summary:
            "The call's audio as WAV (8 kHz, 16-bit) on the call's timeline: silence for loss and gaps, RFC 2833 events skipped, a 500 ms playout buffer (late packets silent). G.711 A/µ-law and Opus (decoded at 8 kHz); other codecs 415",
          params: callIdParams,
          querystring: {
            type: 'object',
            required: ['start'],
            additionalProperties: false,
            properties: {
              start: { type: 'string', maxLength: 40, description: 'Call start as stored in the CDR, ISO UTC with microseconds.' },
              format: { type: 'string', enum: ['wav'], default: 'wav' },
              legs: { type: 'string', enum: ['stereo', 'caller', 'callee', 'mixed'], default: 'stereo', description: 'stereo: caller left, callee right; mixed: both in one channel.' },
              sensor: sensorProperty,
            },
          },
          response: { 200: { description: 'audio/wav, streamed', type: 'string', format: 'binary' }, ...errors(400, 401, 404, 415, 429, 500) },
        },
      },
      async (request, reply) => {
        const query = callQuery(reply, request.params.callId, request.query.start, request.query.sensor);
        if (query === null) return reply;
        const layout = (request.query.legs ?? 'stereo') as AudioLegsLayout;
        let audio: CallAudio;
        try {
          audio = await openCallAudio(config.spool.dir, query, { layout });
        } catch (err) {
          if (err instanceof NoCallAudioError) return sendApiError(reply, 'NO_AUDIO', `${API_ERRORS.NO_AUDIO.message} (${err.reason})`);
          if (err instanceof UnsupportedCodecError) return sendApiError(reply, 'UNSUPPORTED_CODEC', err.message);
          return spoolFailure(request, reply, err);
        }
        void reply
          .type('audio/wav')
          .header('content-length', audio.plan.wavBytes)
          .header('content-disposition', `attachment; filename="${pcapFileName(query.callId, parseCallStart(request.query.start)!, 'wav').replace(/\.wav$/, `_${layout}.wav`)}"`)
          .header('cache-control', 'no-store');
        if (request.method === 'HEAD') return reply.send('');
        const body = audio.readable();
        body.on('error', (err) => {
          request.log.error({ err, callId: query.callId }, 'audio stream failed after the headers were sent');
        });
        // The render is paced by the client's reads; its peak buffer shows it stayed bounded.
        void audio.done?.then((summary) => {
          request.log.debug({ callId: query.callId, sent: summary !== null, bytes: summary?.bytes, peakBufferedBytes: audio.peakBufferedBytes, durationCapped: audio.plan.durationCapped }, 'audio sent');
        });
        return reply.send(body);
      },
    );
    for (const url of readOnlyPaths) {
      api.route({
        method: ['DELETE', 'PATCH', 'POST', 'PUT'],
        url,
        schema: { hide: true },
        handler: (_request, reply) => sendApiError(reply.header('allow', 'GET, HEAD'), 'METHOD_NOT_ALLOWED', `${API_ERRORS.METHOD_NOT_ALLOWED.message}: ${url} answers GET and HEAD only`),
      });
    }
    done();
  });

  /** GETs from the daemon; on failure sends the error and returns null. CALL_NOT_ACTIVE passes through. */
  async function askDaemon(reply: FastifyReply, path: string): Promise<unknown> {
    let answer;
    try {
      answer = await control.get(path);
    } catch (err) {
      if (!(err instanceof ControlUnreachableError)) throw err;
      void sendApiError(reply, 'DAEMON_UNREACHABLE', `${API_ERRORS.DAEMON_UNREACHABLE.message} (${config.control}: ${err.message})`);
      return null;
    }
    if (answer.status === 200) return answer.body;
    daemonError(reply, answer.body);
    return null;
  }

  /** Maps a daemon error answer onto the catalogue. */
  function daemonError(reply: FastifyReply, body: unknown): FastifyReply {
    const error = controlError(body);
    const passed: readonly ApiErrorCode[] = ['CALL_NOT_ACTIVE', 'BAD_CALL_ID'];
    const code = error !== null && (passed as readonly string[]).includes(error.code) ? (error.code as ApiErrorCode) : 'DAEMON_ERROR';
    if (code === 'DAEMON_ERROR') reply.log.warn({ daemonError: error }, 'sensor daemon answered with an error');
    return sendApiError(reply, code, error?.message);
  }

  return app;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Replaces the TLS certificate and key of a listening HTTPS server (SIGHUP): new connections get
 * them, open ones keep theirs. Throws when the pair does not load, leaving the old one in use.
 */
export function reloadTls(app: FastifyInstance, tls: { readonly cert: Buffer; readonly key: Buffer }): void {
  (app.server as unknown as HttpsServer).setSecureContext({ cert: tls.cert, key: tls.key });
}

/**
 * Streams a call's merged capture as the reply's body through pcap-store's `writeCallPcap`, which
 * gives each chunk back to the retrieval once the socket has taken it, so a long call streams from
 * a few reused buffers instead of touching fresh memory per chunk (pcap-store README, "Chunks
 * given back"). `reply.send(stream)` cannot: the stream it pipes from never learns when a chunk is
 * written out. The reply is hijacked (fastify still runs the onResponse hooks); the headers set so
 * far, the rate limiter's among them, are written as they are. A client that goes away ends the
 * stream, which closes the files; a failure after the headers can only cut the response, and is
 * logged.
 */
async function sendRecycled(reply: FastifyReply, capture: CallPcapStream, onFailure: (err: unknown) => void): Promise<void> {
  reply.hijack();
  const res = reply.raw;
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) headers[name] = value;
  res.writeHead(reply.statusCode, headers);
  try {
    if (await writeCallPcap(capture, res)) res.end();
  } catch (err) {
    onFailure(err);
    res.destroy(err instanceof Error ? err : new Error(String(err)));
  }
}
