/** Options of a {@link MemoryGuard}. */
export interface MemoryGuardOptions {
  /** Resident set size at which the sensor refuses new calls. */
  limitBytes: number;
  /** Told when the level changes: 0 normal, 1 near the limit, 2 at the limit. */
  onLevel: (level: 0 | 1 | 2, rssBytes: number) => void;
  /** Reads the resident set size (tests). */
  rss?: () => number;
}

/** What {@link MemoryGuard.stats} reports. */
export interface MemoryGuardStats {
  rss_mb: number;
  heap_used_mb: number;
  limit_mb: number;
  /** 0 normal, 1 not tracking RTP of new streams, 2 refusing new calls. */
  level: 0 | 1 | 2;
  /** Seconds spent at level 1 or 2 since start (checks at level > 0, one per second). */
  shed_seconds: number;
}

/** Level 1 from this share of the limit; back to 0 only under {@link RELEASE_SHARE} (hysteresis). */
const NEAR_SHARE = 0.85;
const RELEASE_SHARE = 0.7;

/**
 * Watches the process's resident memory and asks the call engine to shed load before the kernel's
 * OOM killer or V8's heap limit ends the sensor: a sensor that stops tracking some calls, and says
 * so, keeps the others; a dead one keeps none. Levels rise at once and fall only well under the
 * limit, so a sensor near its limit does not flap between states every second.
 */
export class MemoryGuard {
  private level: 0 | 1 | 2 = 0;
  private shedChecks = 0;
  private lastRss = 0;
  private readonly rss: () => number;

  constructor(private readonly options: MemoryGuardOptions) {
    this.rss = options.rss ?? (() => process.memoryUsage.rss());
  }

  /** Called once per second. */
  check(): void {
    const rss = this.rss();
    this.lastRss = rss;
    const limit = this.options.limitBytes;
    let next: 0 | 1 | 2;
    if (rss >= limit) next = 2;
    else if (rss >= limit * NEAR_SHARE) next = this.level === 2 ? 2 : 1;
    else if (rss >= limit * RELEASE_SHARE) next = this.level > 0 ? 1 : 0;
    else next = 0;
    if (next > 0) this.shedChecks++;
    if (next !== this.level) {
      this.level = next;
      this.options.onLevel(next, rss);
    }
  }

  stats(): MemoryGuardStats {
    const heap = process.memoryUsage().heapUsed;
    return {
      rss_mb: Math.round((this.lastRss || this.rss()) / 1048576),
      heap_used_mb: Math.round(heap / 1048576),
      limit_mb: Math.round(this.options.limitBytes / 1048576),
      level: this.level,
      shed_seconds: this.shedChecks,
    };
  }
}
