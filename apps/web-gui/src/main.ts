import { runService } from '@callscope/runtime';
import { loadWebGuiConfig, WEB_GUI_APP, webGuiConfigSchema } from './config.js';
import { startWebGui } from './start.js';

// Entry point: `web-gui [--config <file>] [--check-config] [--help]`.
void runService({
  app: WEB_GUI_APP,
  summary: 'web GUI: login, CDR search, call detail with SIP ladder, streams, audio and pcap from each sensor',
  schema: webGuiConfigSchema,
  load: loadWebGuiConfig,
  logSettings: (config) => config.log,
  start: (config, logger) => startWebGui(config, logger, { stdout: process.stdout, moduleUrl: import.meta.url }),
}).then((code) => {
  if (code !== null) process.exitCode = code;
});
