import { ConfigError, describeConfig, redactConfig } from '@callscope/runtime';
import { SNIFFER_APP, loadSnifferConfig, snifferConfigSchema } from '../config.js';
import type { AnalyzeIo } from './analyze.cli.js';

/**
 * `sniffer config [--config file]`: every setting with its type, default and environment variable,
 * then the effective configuration (file and environment applied, secrets redacted) as JSON.
 */
export function runConfig(argv: readonly string[], io: AnalyzeIo): number {
  io.stdout.write(`${describeConfig(SNIFFER_APP, snifferConfigSchema)}\n\n`);
  try {
    const loaded = loadSnifferConfig(argv, io.env);
    io.stdout.write(`Effective configuration${loaded.file === null ? '' : ` (file ${loaded.file})`}${loaded.envOverrides.length > 0 ? `, overridden by ${loaded.envOverrides.join(', ')}` : ''}:\n`);
    io.stdout.write(`${JSON.stringify(redactConfig(loaded.config, snifferConfigSchema), null, 2)}\n`);
    return 0;
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr.write(`sniffer config: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
