import { readFileSync } from 'node:fs';
import { isLoopbackHost } from '@callscope/runtime';
import type { DeepReadonly, Logger, StopService } from '@callscope/runtime';
import { ensureDatabase, migrate, openPool } from '@callscope/cdr-schema';
import { ensureFirstAdmin, FIRST_ADMIN_NAME } from './auth/first-admin.js';
import { WEB_GUI_APP } from './config.js';
import type { WebGuiConfig } from './config.js';
import { resolvePublicDir } from './public-dir.js';
import { buildServer, listApiRoutes } from './server.js';
import { SensorRegistry } from './sensors/sensor-registry.js';
import { WEB_GUI_VERSION } from './version.js';

/** Where {@link startWebGui} prints what the operator must see (the first login). */
export interface StartIo {
  readonly stdout: NodeJS.WritableStream;
  /** `import.meta.url` of the entry module, to find the bundled front end beside it. */
  readonly moduleUrl: string;
}

/**
 * Starts the web GUI: creates the database if needed and migrates it to the latest schema (the
 * GUI owns the users tables of version 5), creates the first account on a database without one
 * (a random password is logged and printed once), checks the configured sensors against the
 * database, then listens. Resolves with the stop function: close the server, then the pool.
 */
export async function startWebGui(config: DeepReadonly<WebGuiConfig>, logger: Logger, io: StartIo): Promise<StopService> {
  const publicDir = resolvePublicDir(config.publicDir, io.moduleUrl);
  const tls = config.tls.cert !== null && config.tls.key !== null ? { cert: readFileSync(config.tls.cert), key: readFileSync(config.tls.key) } : null;
  await ensureDatabase(config.db.url);
  const { pool: db } = openPool(config.db.url, { connectionLimit: 8 });
  try {
    const migrated = await migrate(db, { logger: logger.child({ component: 'schema' }) });
    if (migrated.applied.length > 0) logger.info({ applied: migrated.applied, version: migrated.current }, 'database schema migrated');
    const admin = await ensureFirstAdmin(db, config.adminPassword);
    if (admin.created && admin.generatedPassword !== null) {
      // Shown this once and never stored in clear: the operator needs it for the first login.
      logger.warn({ user: FIRST_ADMIN_NAME, firstLoginPassword: admin.generatedPassword }, 'first account created with a random password; log in and keep it safe');
      io.stdout.write(`web GUI login: ${FIRST_ADMIN_NAME} / ${admin.generatedPassword}\n`);
    } else if (admin.created) {
      logger.info({ user: FIRST_ADMIN_NAME }, 'first account created with the configured adminPassword');
    }
    if (tls === null && config.session.secureCookie !== true && !isLoopbackHost(config.listen.host)) {
      logger.warn({ host: config.listen.host }, 'serving the network without TLS: passwords and session cookies travel in clear (set tls.cert/tls.key, or session.secureCookie behind a TLS proxy)');
    }
    const sensors = new SensorRegistry(db, config.sensors);
    await sensors.checkAgainstDatabase(logger);
    const server = buildServer(config, { logger, version: WEB_GUI_VERSION, publicDir, db, tls, sensors });
    const address = await server.listen({ host: config.listen.host, port: config.listen.port });
    logger.debug({ routes: listApiRoutes(server).map((r) => `${r.method} ${r.url}`) }, 'API routes');
    logger.info({ address, publicDir, tls: tls !== null, sensors: config.sensors.map((s) => s.name) }, `${WEB_GUI_APP} listening`);
    return async () => {
      await server.close();
      await db.end();
    };
  } catch (err) {
    await db.end();
    throw err;
  }
}
