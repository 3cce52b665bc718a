/**
 * The sensors the database knows (`sensors`): one row per sensor name, created by the first CDR
 * batch or heartbeat of a sniffer, with the auto-increment id that CDRs carry as `sensor_id` and
 * the daemon's last heartbeat (schema version 4).
 *
 * @packageDocumentation
 */
import type { Pool, RowDataPacket } from 'mysql2/promise';
import type { IsoMicros } from '@callscope/cdr-model';
import { sqlToIso } from './cdr-row.js';

/** One `sensors` row as the GUI lists it (the stats document is left out: it can be large). */
export interface SensorListRow {
  /** `sensors.id`, what CDRs carry as `sensor_id`. */
  readonly id: number;
  /** The sniffer's `sensor.name`, unique. */
  readonly name: string;
  /** Last heartbeat (UTC), null when the sensor only ever wrote CDRs. */
  readonly heartbeat: IsoMicros | null;
  /** Daemon state of the last heartbeat (`running`, `stopped`), null when unknown. */
  readonly state: string | null;
  /** Daemon version of the last heartbeat, null when unknown. */
  readonly version: string | null;
}

/** Every sensor the database knows, by name. */
export async function listSensors(pool: Pool): Promise<SensorListRow[]> {
  const [rows] = await pool.query<RowDataPacket[]>(
    "SELECT id, name, DATE_FORMAT(heartbeat, '%Y-%m-%d %H:%i:%s.%f') AS heartbeat_s, state, version FROM sensors ORDER BY name",
  );
  return rows.map((r) => ({
    id: Number(r.id),
    name: String(r.name),
    heartbeat: r.heartbeat_s === null ? null : sqlToIso(r.heartbeat_s as string),
    state: r.state as string | null,
    version: r.version as string | null,
  }));
}
