/**
 * The keys the web GUI needs to fetch a call's artifacts (pcap, SIP, audio, stream series) from
 * the sensor that recorded it: given only what the browser may name — the CDR's database id and
 * its start — the call's SIP Call-ID, its exact start and its sensor's name. The browser never
 * sends a Call-ID, a sensor or a path, so it can reach only calls that exist in the database.
 *
 * @packageDocumentation
 */
import type { Pool, RowDataPacket } from 'mysql2/promise';
import type { IsoMicros } from '@callscope/cdr-model';
import { isIsoMicros } from '@callscope/cdr-model';
import { isoToSql, sqlToIso } from './cdr-row.js';

/** What identifies a call on its sensor. */
export interface CallKey {
  /** `cdr.id`. */
  readonly id: number;
  /** SIP Call-ID, whole and byte-exact. */
  readonly callId: string;
  /** Call start as stored (the spool files the call under it). */
  readonly start: IsoMicros;
  /** `cdr.sensor_id`: the `sensors` row's id. */
  readonly sensorId: number;
  /** The sensor's name (`sensors.name`, the sniffer's `sensor.name`). */
  readonly sensorName: string;
}

/**
 * The call with database id `id` starting at `start`, or null when there is none. The start is
 * part of the key because `cdr` is partitioned by it: with it the lookup touches one partition.
 *
 * @throws RangeError when `start` is not an {@link IsoMicros} time or `id` not a positive integer.
 */
export async function getCallKey(pool: Pool, id: number, start: IsoMicros): Promise<CallKey | null> {
  if (!Number.isSafeInteger(id) || id < 1) throw new RangeError(`cdr id must be a positive integer, got ${id}`);
  if (!isIsoMicros(start)) throw new RangeError(`start must be YYYY-MM-DDTHH:MM:SS.ffffffZ, got ${start}`);
  const [rows] = await pool.execute<RowDataPacket[]>(
    `SELECT c.call_id, DATE_FORMAT(c.start, '%Y-%m-%d %H:%i:%s.%f') AS start_s, c.sensor_id, s.name AS sensor_name
     FROM cdr c JOIN sensors s ON s.id = c.sensor_id WHERE c.id = ? AND c.start = ?`,
    [id, isoToSql(start)],
  );
  const r = rows[0];
  if (r === undefined) return null;
  return { id, callId: String(r.call_id), start: sqlToIso(r.start_s as string), sensorId: Number(r.sensor_id), sensorName: String(r.sensor_name) };
}
