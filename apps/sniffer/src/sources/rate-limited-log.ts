import type { Logger } from '@callscope/runtime';

/**
 * Warnings of a network source about what its peers send (bad frames, refused connections...):
 * at most one line per reason and {@link RateLimitedLog.everyMs}, each saying how many were not
 * logged since the last, so a hostile or broken peer cannot flood the log. The counters, not the
 * log, are the complete account.
 */
export class RateLimitedLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly log: Logger | undefined,
    readonly everyMs = 10_000,
  ) {}

  /** Logs `msg` at warn with `reason` and `fields`, unless this reason was logged less than `everyMs` ago. */
  warn(reason: string, fields: Record<string, unknown>, msg: string): void {
    if (this.log === undefined) return;
    const now = Date.now();
    const last = this.last.get(reason);
    if (last !== undefined && now - last.at < this.everyMs) {
      last.suppressed++;
      return;
    }
    this.log.warn({ ...fields, reason, suppressed_since_last: last?.suppressed ?? 0 }, msg);
    this.last.set(reason, { at: now, suppressed: 0 });
  }
}
