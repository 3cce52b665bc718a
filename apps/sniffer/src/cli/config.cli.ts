import { ConfigError, describeConfig, redactConfig } from '@callscope/runtime';
import { SNIFFER_APP, loadSnifferConfig, snifferConfigSchema } from '../config.js';
import type { AnalyzeIo } from './analyze.cli.js';
import { UsageError, parseCommandArgs, stringOption, wantsHelp, type OptionSpecs } from './command-args.js';
import { ExitCode } from './exit-code.js';

export const CONFIG_USAGE = `usage: sniffer config [--config <file>]

Prints every setting with its type, default and environment variable, then the effective
configuration (file and environment applied, secrets redacted) as JSON.

exit codes: 0 printed; 2 bad usage or configuration`;

const CONFIG_OPTIONS: OptionSpecs = {
  help: { type: 'boolean', short: 'h' },
  config: { type: 'string' },
};

/**
 * `sniffer config [--config file]`: every setting with its type, default and environment variable,
 * then the effective configuration (file and environment applied, secrets redacted) as JSON.
 */
export function runConfig(argv: readonly string[], io: AnalyzeIo): ExitCode {
  if (wantsHelp(argv)) {
    io.stdout.write(`${CONFIG_USAGE}\n`);
    return ExitCode.Ok;
  }
  try {
    const configFile = stringOption(parseCommandArgs('config', argv, CONFIG_OPTIONS, false), 'config');
    // The list of settings comes first, so it is there to fix a configuration that fails below.
    io.stdout.write(`${describeConfig(SNIFFER_APP, snifferConfigSchema)}\n\n`);
    const loaded = loadSnifferConfig(configFile === null ? [] : ['--config', configFile], io.env);
    io.stdout.write(`Effective configuration${loaded.file === null ? '' : ` (file ${loaded.file})`}${loaded.envOverrides.length > 0 ? `, overridden by ${loaded.envOverrides.join(', ')}` : ''}:\n`);
    io.stdout.write(`${JSON.stringify(redactConfig(loaded.config, snifferConfigSchema), null, 2)}\n`);
    return ExitCode.Ok;
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) {
      io.stderr.write(`sniffer config: ${err.message}\n\n${CONFIG_USAGE}\n`);
      return ExitCode.Usage;
    }
    throw err;
  }
}
