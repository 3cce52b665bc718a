/**
 * Exit codes of every `sniffer` command, one table (README "The sniffer"). A command never
 * exits with a number that is not here.
 */
export const ExitCode = {
  /** Done (analyze), stopped cleanly (live), pcap written (pcap), help printed. */
  Ok: 0,
  /** An internal error: packets skipped and reported by analyze, or a crash of the command. */
  InternalError: 1,
  /** Bad usage or configuration: unknown flag, missing value, invalid setting. */
  Usage: 2,
  /** A capture file could not be read (analyze goes on with the other files). */
  InputFile: 3,
  /**
   * The database or the spool failed: records of this run were lost (not in the database, not
   * in the queue), or the CDR queue is held by another writer or belongs to another database.
   */
  Storage: 4,
  /** `live`: capture through libpcap is not available here (the message says why). */
  LiveUnavailable: 5,
  /** `pcap`: the spool holds no packets of the requested call; `stats --call`: no such call in progress. */
  NoSuchCall: 6,
  /** `stats`: no sensor daemon answers on the control socket (the message says what to check). */
  NoDaemon: 7,
  /**
   * Records wait in the on-disk CDR queue: nothing is lost, but the database did not take every
   * record of this run (or of the queue) in time; the next run on the queue or
   * `sniffer queue replay` delivers them.
   */
  Queued: 8,
} as const;

/** One of the values of {@link ExitCode}. */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
