import { readFileSync } from 'node:fs';
import { runHttpService } from '@callscope/runtime';
import { loadManagerApiConfig, MANAGER_API_APP, managerApiConfigSchema } from './config.js';
import { runHashToken } from './hash-token.cli.js';
import { buildServer, reloadTls } from './server.js';
import { MANAGER_API_VERSION } from './version.js';

// Entry point: `manager-api [--config <file>] [--check-config] [--help]` or `manager-api hash-token`.
if (process.argv[2] === 'hash-token') {
  void runHashToken(process.stdin, process.stdout, process.stderr).then((code) => {
    process.exitCode = code;
  });
} else {
  void runHttpService({
    app: MANAGER_API_APP,
    summary: 'per-sensor HTTP API: health, stats, live calls, call pcaps (`manager-api hash-token` hashes a token for the config)',
    schema: managerApiConfigSchema,
    load: loadManagerApiConfig,
    build: (config, logger) => {
      const readTls = (): { cert: Buffer; key: Buffer } | null =>
        config.tls.cert !== null && config.tls.key !== null ? { cert: readFileSync(config.tls.cert), key: readFileSync(config.tls.key) } : null;
      const tls = readTls();
      const server = buildServer(config, { logger, version: MANAGER_API_VERSION, tls });
      if (tls !== null) {
        // Certificates are renewed in place (ACME, an internal CA): SIGHUP re-reads both files.
        process.on('SIGHUP', () => {
          try {
            reloadTls(server, readTls()!);
            logger.info({ cert: config.tls.cert, key: config.tls.key }, 'TLS certificate and key reloaded');
          } catch (err) {
            logger.error({ err, cert: config.tls.cert, key: config.tls.key }, 'TLS reload failed; the previous certificate stays in use');
          }
        });
      }
      return { server, fields: { tls: tls !== null, tokens: config.tokens.map((t) => t.name), control: config.control, spool: config.spool.dir } };
    },
  });
}
