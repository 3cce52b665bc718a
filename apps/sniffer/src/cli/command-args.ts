import { parseArgs } from 'node:util';

/** A command line the user has to correct; commands print it with their usage and exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** One option of a command: a flag (`boolean`) or an option with a value (`string`). */
export interface OptionSpec {
  readonly type: 'boolean' | 'string';
  /** One-letter alias (`-i`). */
  readonly short?: string;
  /** May be given several times; every value is kept in order. */
  readonly multiple?: boolean;
  /** An empty value (`--filter=`) is meaningful; otherwise it is a usage error. */
  readonly allowEmpty?: boolean;
}

/** The options of one command, by long name (without `--`). */
export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** What {@link parseCommandArgs} returns: option values by name and the positional arguments. */
export interface ParsedArgs {
  /** `string` options: the value (last one wins); `boolean`: true; absent: undefined. */
  readonly values: Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;
  readonly positionals: readonly string[];
  /** Long names of the options given, in command-line order (for "the later flag wins" pairs). */
  readonly order: readonly string[];
}

function label(rawName: string, name: string, spec: OptionSpec | undefined): string {
  if (spec?.short !== undefined && rawName === `-${spec.short}`) return `-${spec.short}/--${name}`;
  return rawName;
}

/**
 * The one argument parser of every sniffer command (`node:util` `parseArgs`, strict): `--x=v` and
 * `--x v` both work, an option's value may not be missing, empty or look like another option
 * (write `--x=-v` for a value starting with a dash), unknown options and values given to flags are
 * errors. Every problem is a {@link UsageError} with a message that names the option.
 *
 * @param command the command's name for messages (`analyze`).
 * @param positionals whether the command takes positional arguments (file names).
 */
export function parseCommandArgs(command: string, argv: readonly string[], specs: OptionSpecs, positionals: boolean): ParsedArgs {
  // A first, lenient pass sees every token, so each mistake gets a message naming the option
  // instead of Node's generic wording; the strict pass below is the authority.
  const { tokens } = parseArgs({ args: [...argv], options: specs, strict: false, allowPositionals: true, tokens: true });
  const order: string[] = [];
  for (const t of tokens) {
    if (t.kind === 'positional') {
      if (!positionals) throw new UsageError(`unexpected argument "${t.value}" (${command} takes no file names)`);
      continue;
    }
    if (t.kind !== 'option') continue;
    const spec = Object.hasOwn(specs, t.name) ? specs[t.name] : undefined;
    const name = label(t.rawName, t.name, spec);
    if (spec === undefined) throw new UsageError(`unknown option ${t.rawName}`);
    if (spec.type === 'boolean') {
      if (t.value !== undefined) throw new UsageError(`${name} takes no value (got "${t.value}")`);
    } else if (t.value === undefined) {
      throw new UsageError(`${name} needs a value`);
    } else if (!t.inlineValue && t.value.startsWith('-')) {
      throw new UsageError(`${name} needs a value, got the option "${t.value}" (write ${t.rawName.startsWith('--') ? t.rawName : `--${t.name}`}=${t.value} for a value starting with a dash)`);
    } else if (t.value === '' && spec.allowEmpty !== true) {
      throw new UsageError(`${name} needs a non-empty value`);
    }
    order.push(t.name);
  }
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: specs, strict: true, allowPositionals: positionals });
  } catch (err) {
    // Only reached if Node refuses something the pass above let through: still the user's input.
    if (err instanceof TypeError && typeof (err as NodeJS.ErrnoException).code === 'string' && (err as NodeJS.ErrnoException).code!.startsWith('ERR_PARSE_ARGS_')) {
      throw new UsageError(err.message);
    }
    throw err;
  }
  return { values: parsed.values, positionals: parsed.positionals, order };
}

/** The value of a `string` option, or null when absent (`multiple` options: the last one). */
export function stringOption(args: ParsedArgs, name: string): string | null {
  const v = args.values[name];
  if (v === undefined) return null;
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return stringListOption(args, name).at(-1) ?? null;
  throw new TypeError(`option --${name} is a flag, not a value`);
}

/** Every value of a `string` option declared `multiple`, in command-line order (empty when absent). */
export function stringListOption(args: ParsedArgs, name: string): string[] {
  const v = args.values[name];
  if (v === undefined) return [];
  const list = Array.isArray(v) ? v : [v];
  return list.map((x) => {
    if (typeof x !== 'string') throw new TypeError(`option --${name} is a flag, not a value`);
    return x;
  });
}

/** Whether a `boolean` option was given. */
export function flagOption(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}

/**
 * For a pair such as `--progress` / `--no-progress`: true or false by whichever was given last,
 * null when neither was.
 */
export function lastOfPair(args: ParsedArgs, on: string, off: string): boolean | null {
  for (let i = args.order.length - 1; i >= 0; i--) {
    if (args.order[i] === on) return true;
    if (args.order[i] === off) return false;
  }
  return null;
}

/** Whether `--help` or `-h` is among the arguments (before a `--`): help wins over any mistake. */
export function wantsHelp(argv: readonly string[]): boolean {
  for (const a of argv) {
    if (a === '--') return false;
    if (a === '--help' || a === '-h') return true;
  }
  return false;
}
