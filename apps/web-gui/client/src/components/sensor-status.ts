/**
 * How a sensor is doing, from what `GET /api/v1/sensors` says of it: the daemon's last reported
 * state and when it last wrote its heartbeat. Pure, so the header's badge and its tests agree.
 */
import type { SensorSummary } from '../../../src/api-types.ts';
import { isoToMicros } from '../lib/format.ts';

/** A heartbeat older than this marks the sensor stale: it may have died without saying so. */
export const STALE_AFTER_MS = 5 * 60_000;

/** `up`: running and heard from lately; `stale`: silent too long; `down`: said it stopped; `unknown`: never reported. */
export type SensorStatus = 'up' | 'stale' | 'down' | 'unknown';

/** The status of one sensor at `nowMs`. */
export function sensorStatus(sensor: SensorSummary, nowMs: number): SensorStatus {
  if (sensor.state === null && sensor.heartbeat === null) return 'unknown';
  if (sensor.state !== null && sensor.state !== 'running') return 'down';
  if (sensor.heartbeat === null) return 'unknown';
  return nowMs - isoToMicros(sensor.heartbeat) / 1000 > STALE_AFTER_MS ? 'stale' : 'up';
}

/** Sensors up, of all, and the worst status among them (what the badge's colour shows). */
export function sensorsSummary(sensors: readonly SensorSummary[], nowMs: number): { up: number; total: number; worst: SensorStatus } {
  const order: readonly SensorStatus[] = ['up', 'unknown', 'stale', 'down'];
  let up = 0;
  let worst: SensorStatus = 'up';
  for (const s of sensors) {
    const st = sensorStatus(s, nowMs);
    if (st === 'up') up++;
    if (order.indexOf(st) > order.indexOf(worst)) worst = st;
  }
  return { up, total: sensors.length, worst: sensors.length === 0 ? 'unknown' : worst };
}
