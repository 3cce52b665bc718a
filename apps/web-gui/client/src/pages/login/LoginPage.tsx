import { useEffect, useRef, useState } from 'preact/hooks';
import type { LoginRequest, SessionBody } from '../../../../src/api-types.ts';
import { ApiError, postJson } from '../../api.ts';

/**
 * The login form. The cursor starts in the user name; a refused login shows the server's own
 * message and puts the cursor back in the password, selected, so a retry is just typing. The URL
 * is left alone, so a shared link opened while logged out lands on its search or call after login.
 */
export function LoginPage({ onLogin }: { onLogin: (session: SessionBody) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const userRef = useRef<HTMLInputElement>(null);
  const passRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    userRef.current?.focus();
  }, []);

  const submit = (e: Event): void => {
    e.preventDefault();
    if (busy) return;
    if (username.trim() === '') {
      setError('Enter your user name.');
      userRef.current?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    const body: LoginRequest = { username: username.trim(), password };
    postJson<SessionBody>('login', body).then(
      (session) => {
        if (session) onLogin(session);
        else {
          setBusy(false);
          setError('The server answered the login without a session.');
        }
      },
      (err: unknown) => {
        setBusy(false);
        setError(
          err instanceof ApiError
            ? err.message || `Login refused (${err.code})`
            : `Cannot reach the server: ${err instanceof Error ? err.message : String(err)}`,
        );
        // After the re-render enables the field again.
        setTimeout(() => {
          passRef.current?.focus();
          passRef.current?.select();
        }, 0);
      },
    );
  };

  return (
    <main class="login">
      <form class="login-box" onSubmit={submit} aria-describedby={error ? 'login-error' : undefined}>
        <h1>callscope</h1>
        <label>
          User name
          <input
            ref={userRef}
            name="username"
            autocomplete="username"
            autocapitalize="none"
            spellcheck={false}
            value={username}
            onInput={(e) => {
              setUsername(e.currentTarget.value);
            }}
            disabled={busy}
          />
        </label>
        <label>
          Password
          <input
            ref={passRef}
            name="password"
            type="password"
            autocomplete="current-password"
            value={password}
            onInput={(e) => {
              setPassword(e.currentTarget.value);
            }}
            disabled={busy}
            aria-invalid={error !== null}
          />
        </label>
        {error !== null && (
          <p id="login-error" class="form-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
    </main>
  );
}
