import { ConfigError } from './config-error.js';

/** What a service's command line asks for (see {@link parseServiceArgs}). */
export interface ServiceArgs {
  /** `--config <file>` or `--config=<file>`, else null. */
  readonly configPath: string | null;
  /** `--help` or `-h`: print the settings and exit. */
  readonly help: boolean;
  /** `--check-config`: validate, print the effective (redacted) config to stdout, exit. */
  readonly checkConfig: boolean;
}

/**
 * Finds `--config <file>` / `--config=<file>` in an argv slice, ignoring everything else (the
 * sniffer has subcommands and options of its own).
 *
 * @throws ConfigError when `--config` has no value or is given twice.
 */
export function findConfigPath(app: string, argv: readonly string[]): string | null {
  let found: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    let value: string | undefined;
    if (arg === '--config') {
      value = argv[i + 1];
      if (value === undefined || value.startsWith('-')) {
        throw new ConfigError(app, [{ source: 'command line', path: '', message: '--config needs a file path' }]);
      }
      i++;
    } else if (arg.startsWith('--config=')) {
      value = arg.slice('--config='.length);
      if (value === '') throw new ConfigError(app, [{ source: 'command line', path: '', message: '--config= needs a file path' }]);
    } else {
      continue;
    }
    if (found !== null) throw new ConfigError(app, [{ source: 'command line', path: '', message: '--config given more than once' }]);
    found = value;
  }
  return found;
}

/**
 * Parses the command line of a long-running service (`manager-api`, `web-gui`, `mirror-sender`):
 * only `--config`, `--help`/`-h` and `--check-config` exist, so anything else is a mistake worth
 * refusing to start over.
 *
 * @param argv arguments after the script name (`process.argv.slice(2)`).
 * @throws ConfigError naming the unknown argument.
 */
export function parseServiceArgs(app: string, argv: readonly string[]): ServiceArgs {
  const configPath = findConfigPath(app, argv);
  let help = false;
  let checkConfig = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') help = true;
    else if (arg === '--check-config') checkConfig = true;
    else if (arg === '--config') i++;
    else if (!arg.startsWith('--config=')) {
      throw new ConfigError(app, [
        { source: 'command line', path: '', message: `unknown argument "${arg}" (expected --config <file>, --check-config or --help)` },
      ]);
    }
  }
  return { configPath, help, checkConfig };
}
