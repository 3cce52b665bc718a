import { redactUrlPassword } from '@callscope/runtime';
import type { LoadedSnifferConfig } from '../config.js';

/** Where a command writes CDRs or spools packets, and who asked for it. */
export interface OutputTarget {
  /** The database URL or spool directory. */
  readonly value: string;
  /** `flag`: `--db`/`--spool`; `config`: `db.url`/`spool.dir` given by the config file or environment. */
  readonly from: 'flag' | 'config';
}

/**
 * The database or spool of `analyze` and `live`: the flag when given; otherwise the config setting
 * when the config file or the environment sets it; otherwise none. The built-in defaults of
 * `db.url` and `spool.dir` never turn an output on: `analyze file.pcap` with no configuration
 * writes to no database and no spool.
 */
export function resolveOutputTarget(flag: string | null, disabled: boolean, setting: 'db.url' | 'spool.dir', loaded: LoadedSnifferConfig): OutputTarget | null {
  if (flag !== null) return { value: flag, from: 'flag' };
  if (disabled || !loaded.explicit.has(setting)) return null;
  return { value: setting === 'db.url' ? loaded.config.db.url : loaded.config.spool.dir, from: 'config' };
}

/**
 * What a command tells the user on stderr when the configuration, not a flag, turned an output on
 * (so a database write or a spool never starts unannounced).
 */
export function describeConfigTarget(setting: 'db.url' | 'spool.dir', t: OutputTarget): string {
  return setting === 'db.url'
    ? `writing records to the database ${redactUrlPassword(t.value)} (config db.url; --no-db to skip)`
    : `spooling call packets under ${t.value} (config spool.dir; --no-spool to skip)`;
}
