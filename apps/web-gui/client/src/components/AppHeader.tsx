import { useState } from 'preact/hooks';
import type { SessionBody } from '../../../src/api-types.ts';
import { ApiError, postJson } from '../api.ts';
import { listUrl } from './last-list.ts';
import { Link } from './Link.tsx';
import { sensorStatus, sensorsSummary } from './sensor-status.ts';
import { forgetSensors, useSensors } from './sensors.ts';

const STATUS_WORDS = { up: 'up', stale: 'no heartbeat for 5 min', down: 'stopped', unknown: 'not reported' } as const;

/** The sensors badge: "Sensors 2/3" (up of all), each sensor's state in its tooltip. */
function SensorBadge() {
  const { sensors, error } = useSensors();
  if (error) return <span class="sensor-badge s-down" title={`Sensors: ${error.message}`}>Sensors ?</span>;
  if (!sensors) return null;
  const now = Date.now();
  const sum = sensorsSummary(sensors, now);
  const detail = sensors
    .map((s) => `${s.name} (#${s.id}): ${STATUS_WORDS[sensorStatus(s, now)]}${s.mirroredBy ? `, mirrored to ${s.mirroredBy}` : ''}${s.heartbeat ? `, heartbeat ${s.heartbeat}` : ''}`)
    .join('\n');
  // "0/2 up" would read as an outage when the sensors simply never reported a state (analyze
  // runs, sensors known from config only): then the count alone, grey.
  const allUnknown = sensors.every((s) => sensorStatus(s, now) === 'unknown');
  return (
    <span class={`sensor-badge s-${sum.worst}`} title={detail || 'No sensors known'}>
      {allUnknown ? `Sensors ${sum.total}` : `Sensors ${sum.up}/${sum.total} up`}
    </span>
  );
}

/**
 * The app's top bar on every screen: product name (home: the call list), navigation, sensors at a
 * glance, the user and logout (a POST carrying the CSRF token, so a foreign page cannot log the
 * user out).
 */
export function AppHeader({ session, onLogout }: { session: SessionBody; onLogout: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const logout = (): void => {
    setBusy(true);
    setError(null);
    postJson('logout', {}).then(
      () => {
        forgetSensors();
        onLogout();
      },
      (err: unknown) => {
        setBusy(false);
        // 401: the session was already gone; the app shows the login anyway.
        if (err instanceof ApiError && err.status === 401) onLogout();
        else setError(err instanceof Error ? err.message : String(err));
      },
    );
  };
  return (
    <header class="app-header">
      <Link href="/calls" class="brand">
        callscope
      </Link>
      <nav>
        {/* Back to the search the user was on (from a call's detail), not a fresh one. */}
        <Link href={listUrl()} title="The call list (your last search)">
          Calls
        </Link>
      </nav>
      <span class="spacer" />
      <SensorBadge />
      {error && (
        <span class="header-error" role="alert">
          Logout failed: {error}
        </span>
      )}
      <span class="user" title={`Role: ${session.user.role}`}>
        {session.user.name}
        {session.user.role === 'admin' ? ' (admin)' : ''}
      </span>
      <button type="button" onClick={logout} disabled={busy}>
        Log out
      </button>
    </header>
  );
}
