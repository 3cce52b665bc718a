import { describe, expect, it } from 'vitest';
import type { SensorSummary } from '../../../src/api-types.ts';
import { sensorStatus, sensorsSummary } from './sensor-status.ts';

const NOW = Date.parse('2026-12-04T15:00:00Z');
const sensor = (over: Partial<SensorSummary>): SensorSummary => ({ id: 1, name: 's', managerUrl: null, heartbeat: null, state: null, mirroredBy: null, ...over });

describe('sensor status', () => {
  it('is up when running with a recent heartbeat, stale after five silent minutes', () => {
    expect(sensorStatus(sensor({ state: 'running', heartbeat: '2026-12-04T14:59:00.000000Z' }), NOW)).toBe('up');
    expect(sensorStatus(sensor({ state: 'running', heartbeat: '2026-12-04T14:54:59.999999Z' }), NOW)).toBe('stale');
  });

  it('is down when the daemon said so, unknown when it never reported', () => {
    expect(sensorStatus(sensor({ state: 'stopped', heartbeat: '2026-12-04T14:59:00Z' }), NOW)).toBe('down');
    expect(sensorStatus(sensor({}), NOW)).toBe('unknown');
    expect(sensorStatus(sensor({ state: 'running' }), NOW)).toBe('unknown');
  });

  it('summarises the fleet by its worst sensor', () => {
    const up = sensor({ state: 'running', heartbeat: '2026-12-04T14:59:30Z' });
    expect(sensorsSummary([up, up], NOW)).toEqual({ up: 2, total: 2, worst: 'up' });
    expect(sensorsSummary([up, sensor({}), sensor({ state: 'stopped' })], NOW)).toEqual({ up: 1, total: 3, worst: 'down' });
    expect(sensorsSummary([], NOW)).toEqual({ up: 0, total: 0, worst: 'unknown' });
  });
});
