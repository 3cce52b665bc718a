import { readFileSync } from 'node:fs';
import { runHttpService } from '@callscope/runtime';
import { loadManagerApiConfig, MANAGER_API_APP, managerApiConfigSchema } from './config.js';
import { buildServer } from './server.js';
import { MANAGER_API_VERSION } from './version.js';

// Entry point: `manager-api [--config <file>] [--check-config] [--help]`.
void runHttpService({
  app: MANAGER_API_APP,
  summary: 'per-sensor HTTP API (health and metrics now; stats, live calls and pcap download follow)',
  schema: managerApiConfigSchema,
  load: loadManagerApiConfig,
  build: (config, logger) => {
    const tls =
      config.tls.cert !== null && config.tls.key !== null
        ? { cert: readFileSync(config.tls.cert), key: readFileSync(config.tls.key) }
        : null;
    const server = buildServer(config, { logger, version: MANAGER_API_VERSION, tls });
    return { server, fields: { tls: tls !== null, auth: config.token !== null } };
  },
});
