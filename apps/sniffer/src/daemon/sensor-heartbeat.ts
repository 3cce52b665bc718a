import { SensorHeartbeatWriter } from '@callscope/cdr-schema';
import type { Logger } from '@callscope/runtime';
import type { SensorStats } from './sensor-daemon.js';

/** Where the daemon reports that it is alive (the database's `sensors` row). */
export interface SensorHeartbeat {
  beat(stats: SensorStats, state: 'running' | 'stopped'): Promise<void>;
  close(): Promise<void>;
}

/**
 * Heartbeats into the CDR database. A failed beat is logged once per outage and never stops the
 * sensor: the CDR writer has its own outage handling, the heartbeat is only a sign of life.
 */
export class DbSensorHeartbeat implements SensorHeartbeat {
  private readonly writer: SensorHeartbeatWriter;
  private failing = false;
  private warnedId = false;

  constructor(
    url: string,
    private readonly log: Logger,
  ) {
    this.writer = new SensorHeartbeatWriter(url);
  }

  async beat(stats: SensorStats, state: 'running' | 'stopped'): Promise<void> {
    try {
      const { pipeline: _pipeline, ...summary } = stats;
      const id = await this.writer.beat({ name: stats.sensor, version: stats.version, state, started: stats.started, stats: summary });
      if (this.failing) this.log.info('heartbeat: database reachable again');
      this.failing = false;
      if (id !== stats.sensor_id && !this.warnedId) {
        this.warnedId = true;
        this.log.warn(
          { configured: stats.sensor_id, database: id, sensor: stats.sensor },
          `sensor.id is ${stats.sensor_id} but the database numbers sensor "${stats.sensor}" ${id} (sensors are keyed by name; its CDRs carry ${id})`,
        );
      }
    } catch (err) {
      if (!this.failing) this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'heartbeat: cannot reach the database (CDRs queue on disk meanwhile)');
      this.failing = true;
    }
  }

  async close(): Promise<void> {
    await this.writer.close().catch(() => undefined);
  }
}
