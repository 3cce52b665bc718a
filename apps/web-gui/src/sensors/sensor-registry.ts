import type { Pool } from 'mysql2/promise';
import { listMirroredSensors, listSensors } from '@callscope/cdr-schema';
import type { MirroredSensorRow } from '@callscope/cdr-schema';
import { redactUrlPassword } from '@callscope/runtime';
import type { DeepReadonly, Logger } from '@callscope/runtime';
import type { SensorSummary } from '../api-types.js';
import type { SensorEntry } from '../config.js';

/**
 * How long the GUI trusts what it read of the mirrored sensors (which sniffer holds whose
 * packets). Heartbeats come every few seconds; a sender that moved to another central sniffer is
 * followed within this time, and a burst of artifact requests costs one query.
 */
export const MIRROR_CACHE_MS = 10_000;

/** Where the GUI asks for a sensor's call artifacts. */
export interface ManagerTarget {
  /** Sensor name (config and `sensors.name`): the sniffer that holds the packets. */
  readonly name: string;
  /** manager-api base URL (any path prefix kept: a reverse proxy may mount it below `/`). */
  readonly baseUrl: URL;
  /** Bearer token, null for a manager-api without tokens. */
  readonly token: string | null;
}

/**
 * The sensors registry: which manager-api holds the packets of a CDR. A CDR carries `sensor_id`,
 * the id of its sensor's row in the `sensors` table, which the sniffer creates by sensor NAME;
 * the GUI config lists manager-apis by that same name. So the mapping is CDR -> `sensors.name`
 * -> config entry, and it holds whatever ids the database handed out (they differ between
 * databases and after a restore). The config's `id` is informative only; a mismatch is logged.
 *
 * A mirrored sensor (a mirror-sender on a PBX, issue 16) needs no entry of its own: its CDRs carry
 * its name, its packets lie with the central sniffer that receives it, and that sniffer's heartbeat
 * lists it. {@link resolve} follows that link to the holder's manager-api.
 */
export class SensorRegistry {
  private readonly byName: ReadonlyMap<string, { entry: DeepReadonly<SensorEntry>; target: ManagerTarget }>;
  private mirrored: { readAtMs: number; rows: Promise<ReadonlyMap<string, MirroredSensorRow>> } | null = null;

  constructor(
    private readonly db: Pool,
    sensors: readonly DeepReadonly<SensorEntry>[],
    private readonly nowMs: () => number = Date.now,
  ) {
    this.byName = new Map(sensors.map((entry) => [entry.name, { entry, target: { name: entry.name, baseUrl: new URL(entry.managerUrl), token: entry.token } }]));
  }

  /** How many sensors the config lists. */
  get configured(): number {
    return this.byName.size;
  }

  /** The manager-api the config names for the sensor `name`, or null when it names none. */
  managerFor(name: string): ManagerTarget | null {
    return this.byName.get(name)?.target ?? null;
  }

  /**
   * The manager-api that serves the packets of sensor `name`'s calls: its own config entry, else,
   * for a mirrored sensor, that of the sniffer whose heartbeat lists it as a mirror sender. Null
   * when neither is known.
   */
  async resolve(name: string): Promise<ManagerTarget | null> {
    const own = this.managerFor(name);
    if (own !== null) return own;
    const row = (await this.mirroredSensors()).get(name);
    return row === undefined ? null : this.managerFor(row.heldBy);
  }

  /** The mirrored sensors by name, read at most once per {@link MIRROR_CACHE_MS}. */
  private mirroredSensors(): Promise<ReadonlyMap<string, MirroredSensorRow>> {
    const now = this.nowMs();
    if (this.mirrored === null || now - this.mirrored.readAtMs >= MIRROR_CACHE_MS) {
      const rows = listMirroredSensors(this.db).then((list) => new Map(list.map((r) => [r.sensor, r])));
      const entry = { readAtMs: now, rows };
      // A failed read is not cached: the next request asks the database again.
      rows.catch(() => {
        if (this.mirrored === entry) this.mirrored = null;
      });
      this.mirrored = entry;
    }
    return this.mirrored.rows;
  }

  /**
   * Every sensor the database knows, with its manager-api URL (password removed) when the config
   * names it. Never a token. A configured sensor that has not written a CDR or heartbeat yet has
   * no id for CDRs to carry, so it is not listed ({@link checkAgainstDatabase} logs it).
   */
  async list(): Promise<SensorSummary[]> {
    const [rows, mirrored] = await Promise.all([listSensors(this.db), this.mirroredSensors()]);
    return rows.map((row) => {
      const via = this.byName.has(row.name) ? undefined : mirrored.get(row.name);
      const managerUrl = this.byName.get(via?.heldBy ?? row.name)?.entry.managerUrl;
      const base = { id: row.id, name: row.name, managerUrl: managerUrl === undefined ? null : redactUrlPassword(managerUrl) };
      if (via === undefined) return { ...base, heartbeat: row.heartbeat, state: row.state, mirroredBy: null };
      // A mirror-sender writes no heartbeat: it is alive as far as its holder saw it connected.
      const state = via.state === 'connected' ? (via.holderState ?? 'running') : 'disconnected';
      return { ...base, heartbeat: via.heartbeat, state, mirroredBy: via.heldBy };
    });
  }

  /** Logs configured sensors the database does not know yet and config ids that differ from the database's. */
  async checkAgainstDatabase(logger: Logger): Promise<void> {
    const known = new Map((await listSensors(this.db)).map((r) => [r.name, r.id]));
    for (const { entry } of this.byName.values()) {
      const id = known.get(entry.name);
      if (id === undefined) logger.warn({ sensor: entry.name }, 'configured sensor not in the database yet (no CDR or heartbeat); its calls are found once its sniffer writes');
      else if (entry.id !== null && entry.id !== id) logger.warn({ sensor: entry.name, configId: entry.id, databaseId: id }, 'config id differs from the database id; CDRs use the database id (matched by name)');
    }
  }
}
