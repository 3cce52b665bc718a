import { runService } from '@callscope/runtime';
import { loadMirrorSenderConfig, MIRROR_SENDER_APP, mirrorSenderConfigSchema } from './config.js';

// Entry point: `mirror-sender [--config <file>] [--check-config] [--help]`. Configuration,
// --help and --check-config work today; capturing and streaming do not exist yet, so starting
// fails loudly instead of pretending to mirror.
void runService({
  app: MIRROR_SENDER_APP,
  summary: 'captures packets on a PBX/SBC host and streams them to a callscope sniffer',
  schema: mirrorSenderConfigSchema,
  load: loadMirrorSenderConfig,
  logSettings: (config) => config.log,
  start: (config) => {
    const missing = [config.interfaces.length === 0 ? 'interfaces' : null, config.target.host === null ? 'target.host' : null].filter(
      (name) => name !== null,
    );
    const hint = missing.length > 0 ? ` (and ${missing.join(', ')} not configured)` : '';
    return Promise.reject(
      new Error(`live capture and mirror streaming arrive in a later issue; this build only validates the configuration (--check-config)${hint}`),
    );
  },
}).then((code) => {
  if (code !== null) process.exitCode = code;
});
