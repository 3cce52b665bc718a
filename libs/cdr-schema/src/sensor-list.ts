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

/**
 * A sensor whose packets reach a central sniffer through a mirror-sender (issue 16): its CDRs
 * carry its own name, while its packets lie in the spool of the sniffer that received them.
 */
export interface MirroredSensorRow {
  /** The mirror-sender's sensor name (what its CDRs carry). */
  readonly sensor: string;
  /** The `sensors.name` of the sniffer that receives it and holds its packets. */
  readonly heldBy: string;
  /** The sender's connection as the holder last reported it. */
  readonly state: 'connected' | 'disconnected';
  /** The holder's last heartbeat, null when unknown. */
  readonly heartbeat: IsoMicros | null;
  /** The holder's daemon state (`running`, `stopped`), null when unknown. */
  readonly holderState: string | null;
}

/** How a receiving sniffer lists one mirror-sender in its stats (`sources[]`, DESIGN "Mirror stream"). */
interface MirrorSenderSource {
  kind: 'mirror';
  role: 'sender';
  sensor_name: string;
  state: string;
}

function isMirrorSender(s: unknown): s is MirrorSenderSource {
  if (typeof s !== 'object' || s === null) return false;
  const o = s as Record<string, unknown>;
  return o['kind'] === 'mirror' && o['role'] === 'sender' && typeof o['sensor_name'] === 'string' && o['sensor_name'] !== '';
}

/**
 * Which sniffer holds the packets of each mirrored sensor, read from the receiving sniffers'
 * heartbeats (their stats list one `mirror` source per sender). A sensor listed by several
 * sniffers (it moved, or two receive it) goes to the one where it is connected, then to the most
 * recent heartbeat. A stats document of another shape is skipped (the column is checked JSON, but
 * its shape is another program's): the heartbeat is a sign of life, never a reason for the GUI to fail.
 */
export async function listMirroredSensors(pool: Pool): Promise<MirroredSensorRow[]> {
  // The LIKE keeps the parse to sniffers that receive mirrors (the stats of others can be large).
  const [rows] = await pool.query<RowDataPacket[]>(
    "SELECT name, DATE_FORMAT(heartbeat, '%Y-%m-%d %H:%i:%s.%f') AS heartbeat_s, state, stats FROM sensors WHERE stats LIKE '%\"kind\":\"mirror\"%'",
  );
  const best = new Map<string, MirroredSensorRow>();
  for (const r of rows) {
    let sources: unknown;
    try {
      sources = (JSON.parse(String(r.stats)) as { sources?: unknown }).sources;
    } catch {
      continue;
    }
    if (!Array.isArray(sources)) continue;
    const heartbeat = r.heartbeat_s === null ? null : sqlToIso(r.heartbeat_s as string);
    for (const s of sources) {
      if (!isMirrorSender(s)) continue;
      const row: MirroredSensorRow = {
        sensor: s.sensor_name,
        heldBy: String(r.name),
        state: s.state === 'connected' ? 'connected' : 'disconnected',
        heartbeat,
        holderState: r.state as string | null,
      };
      const seen = best.get(row.sensor);
      if (seen === undefined || rankHolder(row) > rankHolder(seen) || (rankHolder(row) === rankHolder(seen) && (row.heartbeat ?? '') > (seen.heartbeat ?? ''))) best.set(row.sensor, row);
    }
  }
  return [...best.values()].sort((a, b) => (a.sensor < b.sensor ? -1 : a.sensor > b.sensor ? 1 : 0));
}

/** Connected to a running holder first, then connected, then the rest. */
function rankHolder(row: MirroredSensorRow): number {
  return (row.state === 'connected' ? 2 : 0) + (row.holderState === 'running' ? 1 : 0);
}
