import type { FastifyPluginAsync } from 'fastify';
import type { Pool } from 'mysql2/promise';

/** What the call routes need. */
export interface CallRoutesOptions {
  /** The CDR database. */
  readonly db: Pool;
}

/**
 * `GET /calls` (search, keyset pages), `/calls/export`, `/calls/{id}` and `/calls/{id}/related`
 * under the prefix it is registered with (`/api/v1`); see api-types.ts.
 */
export const callRoutes: FastifyPluginAsync<CallRoutesOptions> = (_app, _options) => Promise.resolve();
