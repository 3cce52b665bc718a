import type { Pool } from 'mysql2/promise';
import { listSensors } from '@callscope/cdr-schema';
import { redactUrlPassword } from '@callscope/runtime';
import type { DeepReadonly, Logger } from '@callscope/runtime';
import type { SensorSummary } from '../api-types.js';
import type { SensorEntry } from '../config.js';

/** Where the GUI asks for a sensor's call artifacts. */
export interface ManagerTarget {
  /** Sensor name (config and `sensors.name`). */
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
 */
export class SensorRegistry {
  private readonly byName: ReadonlyMap<string, { entry: DeepReadonly<SensorEntry>; target: ManagerTarget }>;

  constructor(
    private readonly db: Pool,
    sensors: readonly DeepReadonly<SensorEntry>[],
  ) {
    this.byName = new Map(sensors.map((entry) => [entry.name, { entry, target: { name: entry.name, baseUrl: new URL(entry.managerUrl), token: entry.token } }]));
  }

  /** How many sensors the config lists. */
  get configured(): number {
    return this.byName.size;
  }

  /** The manager-api of the sensor named `name`, or null when the config has none. */
  managerFor(name: string): ManagerTarget | null {
    return this.byName.get(name)?.target ?? null;
  }

  /**
   * Every sensor the database knows, with its manager-api URL (password removed) when the config
   * names it. Never a token. A configured sensor that has not written a CDR or heartbeat yet has
   * no id for CDRs to carry, so it is not listed ({@link checkAgainstDatabase} logs it).
   */
  async list(): Promise<SensorSummary[]> {
    const rows = await listSensors(this.db);
    return rows.map((row) => {
      const managerUrl = this.byName.get(row.name)?.entry.managerUrl;
      return { id: row.id, name: row.name, managerUrl: managerUrl === undefined ? null : redactUrlPassword(managerUrl), heartbeat: row.heartbeat, state: row.state };
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
