import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Pool } from 'mysql2/promise';
import type { IsoMicros } from '@callscope/cdr-model';
import { findRelatedCalls, getGuiCall, searchCallPage } from '@callscope/cdr-schema';
import { sendApiError } from '../api-errors.js';
import type { CallDetailBody, CallSearchPage, CallSearchQuery, RelatedCallsBody } from '../api-types.js';
import { CallCursorError, decodeCursor, encodeCursor, searchFingerprint } from './call-cursor.js';
import { EXPORT_ROW_CAP, exportStream } from './call-export.js';
import type { ExportFormat, ExportProgress } from './call-export.js';
import { CALL_QUERY_SCHEMA, CallQueryError, EXPORT_QUERY_SCHEMA, parseCallQuery, userTimeToIso } from './call-query.js';
import type { ParsedCallQuery } from './call-query.js';
import {
  CALL_DETAIL_SCHEMA,
  CALL_KEY_PARAMS_SCHEMA,
  CALL_KEY_QUERY_SCHEMA,
  CALL_SEARCH_PAGE_SCHEMA,
  RELATED_CALLS_SCHEMA,
} from './call-schemas.js';

/** What the call routes need. */
export interface CallRoutesOptions {
  /** The CDR database. */
  readonly db: Pool;
  /**
   * Whether the GUI can fetch the artifacts (pcap, ladder, audio) of calls recorded by this
   * sensor, i.e. it knows a manager-api for it (`CallDetailBody.artifacts`). Default: never.
   */
  readonly artifactsFor?: (sensorId: number, sensorName: string) => boolean | Promise<boolean>;
  /** Most rows of one export (default {@link EXPORT_ROW_CAP}, 1 000 000). */
  readonly exportRowCap?: number;
  /** Clock in microseconds since the epoch, the default end of a search (default: `Date.now()`). */
  readonly nowUs?: () => number;
}

/** Query of the routes keyed by one call. */
interface CallKeyRequest {
  Params: { id: string };
  Querystring: { start: string };
}

const SEARCH_KEYS: ReadonlySet<string> = new Set(Object.keys(CALL_QUERY_SCHEMA.properties));
const EXPORT_KEYS: ReadonlySet<string> = new Set(Object.keys(EXPORT_QUERY_SCHEMA.properties));

const ms = (t0: number): number => Math.round((performance.now() - t0) * 100) / 100;

/** `start` of a call key (validated by its schema's pattern) as {@link IsoMicros}, or null if not a real instant. */
function startOf(text: string): IsoMicros | null {
  try {
    return userTimeToIso(text, 'start');
  } catch (err) {
    if (err instanceof CallQueryError) return null;
    throw err;
  }
}

/**
 * Answers a failed querystring validation of the search routes with the search's own code: the
 * cursor's field -> `BAD_CURSOR`, any other -> `BAD_FILTER` (the message names the field).
 * @returns whether an error was sent.
 */
function refuseInvalid(request: FastifyRequest, reply: FastifyReply, allowed: ReadonlySet<string>): boolean {
  // Fastify's validator drops unknown keys silently (`removeAdditional`); a misspelt filter
  // (`caler=44`) would then widen the search to every call, so unknown keys are refused here.
  const q = request.url.indexOf('?');
  for (const key of new URLSearchParams(q < 0 ? '' : request.url.slice(q + 1)).keys()) {
    if (!allowed.has(key)) {
      void sendApiError(reply, 'BAD_FILTER', `unknown parameter ${JSON.stringify(key.slice(0, 40))}`);
      return true;
    }
  }
  const error = request.validationError;
  if (error === undefined) return false;
  const first = (error as { validation?: { instancePath?: string }[] }).validation?.[0];
  void sendApiError(reply, first?.instancePath === '/cursor' ? 'BAD_CURSOR' : 'BAD_FILTER', error.message);
  return true;
}

/**
 * `GET /calls` (search, keyset pages), `/calls/export`, `/calls/{id}` and `/calls/{id}/related`
 * under the prefix it is registered with (`/api/v1`); see api-types.ts for the contract and
 * libs/cdr-schema's gui-search.ts for the SQL. Authentication is the server's global hook.
 */
export const callRoutes: FastifyPluginAsync<CallRoutesOptions> = (app, options) => {
  const { db } = options;
  const artifactsFor = options.artifactsFor ?? ((): boolean => false);
  const nowUs = options.nowUs ?? ((): number => Date.now() * 1000);
  const exportRowCap = options.exportRowCap ?? EXPORT_ROW_CAP;

  /** Parses a search, answering bad input itself; null when it did. */
  const parseSearch = (q: CallSearchQuery, reply: FastifyReply, range?: { from: IsoMicros; to: IsoMicros }): ParsedCallQuery | null => {
    try {
      return parseCallQuery(q, nowUs(), range);
    } catch (err) {
      if (err instanceof CallQueryError) {
        void sendApiError(reply, 'BAD_FILTER', err.message);
        return null;
      }
      throw err;
    }
  };

  app.get<{ Querystring: CallSearchQuery }>(
    '/calls',
    { schema: { querystring: CALL_QUERY_SCHEMA, response: { 200: CALL_SEARCH_PAGE_SCHEMA } }, attachValidation: true },
    async (request, reply) => {
      const t0 = performance.now();
      if (refuseInvalid(request, reply, SEARCH_KEYS)) return reply;
      const q = request.query;
      const fingerprint = searchFingerprint(q);
      let cursor = null;
      if (q.cursor !== undefined) {
        // The sort key must be known to check the cursor's value; parse the sort alone first.
        const sortKey = (q.sort ?? '-start').replace(/^-/, '') as Parameters<typeof decodeCursor>[1];
        try {
          cursor = decodeCursor(q.cursor, sortKey, fingerprint);
        } catch (err) {
          if (err instanceof CallCursorError) return sendApiError(reply, 'BAD_CURSOR', err.message);
          throw err;
        }
      }
      const parsed = parseSearch(q, reply, cursor === null ? undefined : { from: cursor.from, to: cursor.to });
      if (parsed === null) return reply;
      const page = await searchCallPage(db, { filter: parsed.filter, sort: parsed.sort, after: cursor?.position ?? null, limit: parsed.limit });
      const body: CallSearchPage = {
        calls: page.rows,
        next: page.next === null ? null : encodeCursor({ position: page.next, from: parsed.filter.from, to: parsed.filter.to, fingerprint }),
        tookMs: ms(t0),
      };
      return body;
    },
  );

  app.get<{ Querystring: CallSearchQuery & { format: ExportFormat } }>(
    '/calls/export',
    { schema: { querystring: EXPORT_QUERY_SCHEMA }, attachValidation: true },
    (request, reply) => {
      if (refuseInvalid(request, reply, EXPORT_KEYS)) return reply;
      const parsed = parseSearch(request.query, reply);
      if (parsed === null) return reply;
      const { format } = request.query;
      const { filter, sort } = parsed;
      const stamp = (iso: IsoMicros): string => iso.slice(0, 19).replace(/[-:]/g, '');
      const progress: ExportProgress = { rows: 0, truncated: false };
      void reply
        .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
        .header('content-disposition', `attachment; filename="calls-${stamp(filter.from)}Z-${stamp(filter.to)}Z.${format}"`)
        .header('cache-control', 'no-store')
        .header('x-export-row-cap', String(exportRowCap))
        // Known only once every row is sent: HTTP trailers (announced by `Trailer`), read by
        // scripts; the browser's download just ends at the cap, which the header above states.
        .trailer('x-export-rows', () => Promise.resolve(String(progress.rows)))
        .trailer('x-export-truncated', () => Promise.resolve(String(progress.truncated)));
      return reply.send(exportStream(db, filter, sort, format, progress, exportRowCap));
    },
  );

  app.get<CallKeyRequest>(
    '/calls/:id',
    { schema: { params: CALL_KEY_PARAMS_SCHEMA, querystring: CALL_KEY_QUERY_SCHEMA, response: { 200: CALL_DETAIL_SCHEMA } } },
    async (request, reply) => {
      const start = startOf(request.query.start);
      if (start === null) return sendApiError(reply, 'BAD_REQUEST', `start is not a UTC time: ${request.query.start}`);
      const found = await getGuiCall(db, Number(request.params.id), start);
      if (found === null) return sendApiError(reply, 'NOT_FOUND', 'no call with this id and start');
      const body: CallDetailBody = { id: found.id, sensor_id: found.sensor_id, call: found.call, artifacts: await artifactsFor(found.sensor_id, found.call.sensor) };
      return body;
    },
  );

  app.get<CallKeyRequest>(
    '/calls/:id/related',
    { schema: { params: CALL_KEY_PARAMS_SCHEMA, querystring: CALL_KEY_QUERY_SCHEMA, response: { 200: RELATED_CALLS_SCHEMA } } },
    async (request, reply) => {
      const start = startOf(request.query.start);
      if (start === null) return sendApiError(reply, 'BAD_REQUEST', `start is not a UTC time: ${request.query.start}`);
      const calls = await findRelatedCalls(db, Number(request.params.id), start);
      if (calls === null) return sendApiError(reply, 'NOT_FOUND', 'no call with this id and start');
      const body: RelatedCallsBody = { calls };
      return body;
    },
  );
  return Promise.resolve();
};
