import { runHttpService } from '@callscope/runtime';
import { openPool } from '@callscope/cdr-schema';
import { loadWebGuiConfig, WEB_GUI_APP, webGuiConfigSchema } from './config.js';
import { resolvePublicDir } from './public-dir.js';
import { buildServer } from './server.js';
import { WEB_GUI_VERSION } from './version.js';

// Entry point: `web-gui [--config <file>] [--check-config] [--help]`.
void runHttpService({
  app: WEB_GUI_APP,
  summary: 'web GUI (landing page, health and sensor list now; CDR search and call detail follow)',
  schema: webGuiConfigSchema,
  load: loadWebGuiConfig,
  build: (config, logger) => {
    const publicDir = resolvePublicDir(config.publicDir, import.meta.url);
    const { pool: db } = openPool(config.db.url, { connectionLimit: 8 });
    const server = buildServer(config, { logger, version: WEB_GUI_VERSION, publicDir, db });
    server.addHook('onClose', async () => {
      await db.end();
    });
    return { server, fields: { publicDir, sensors: config.sensors.length } };
  },
});
