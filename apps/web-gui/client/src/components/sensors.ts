/**
 * The sensors of `GET /api/v1/sensors`, fetched once per session and shared by every screen
 * that names them (header badge, list filter, call detail).
 */
import { useEffect, useState } from 'preact/hooks';
import type { SensorSummary } from '../../../src/api-types.ts';
import { getJson } from '../api.ts';

let cache: Promise<readonly SensorSummary[]> | null = null;

/** The sensors, from the server the first time and from memory after (a failure is retried next time). */
export function loadSensors(): Promise<readonly SensorSummary[]> {
  cache ??= getJson<readonly SensorSummary[]>('sensors').catch((err: unknown) => {
    cache = null;
    throw err;
  });
  return cache;
}

/** Forgets the sensors (at logout: the next user may see others). */
export function forgetSensors(): void {
  cache = null;
}

/** The sensors once loaded (null before), and the error that kept them away. */
export function useSensors(): { sensors: readonly SensorSummary[] | null; error: Error | null } {
  const [state, setState] = useState<{ sensors: readonly SensorSummary[] | null; error: Error | null }>({ sensors: null, error: null });
  useEffect(() => {
    let live = true;
    loadSensors().then(
      (sensors) => {
        if (live) setState({ sensors, error: null });
      },
      (err: unknown) => {
        if (live) setState({ sensors: null, error: err instanceof Error ? err : new Error(String(err)) });
      },
    );
    return () => {
      live = false;
    };
  }, []);
  return state;
}
