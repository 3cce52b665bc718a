/**
 * The browser app: asks for the session, shows the login when there is none, and routes
 * `/calls` (the call list, its filter in the query string) and `/calls/{id}?start=ISO` (one call
 * on one screen). Preact: a 4 kB runtime with the React model, so the bundle stays small and the
 * list's rows are plain DOM we can virtualise ourselves.
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { SessionBody } from '../../src/api-types.ts';
import { getJson, onLoggedOut, setSession } from './api.ts';
import { navigate, useLocation } from './router.ts';
import { LoginPage } from './pages/login/LoginPage.tsx';
import { CallListPage } from './pages/call-list/CallListPage.tsx';
import { CallDetailPage } from './pages/call-detail/CallDetailPage.tsx';
import { AppHeader } from './components/AppHeader.tsx';
import './app.css';

function App() {
  const [session, setSessionState] = useState<SessionBody | null | undefined>(undefined);
  const location = useLocation();

  useEffect(() => {
    getJson<SessionBody>('session')
      .then((s) => {
        setSession(s);
        setSessionState(s);
      })
      .catch(() => {
        // 401 is the normal "not logged in"; anything else also lands on the login, which shows the server's answer on submit.
        setSessionState(null);
      });
    return onLoggedOut(() => {
      setSession(null);
      setSessionState(null);
    });
  }, []);

  if (session === undefined) return null;
  if (session === null)
    return (
      <LoginPage
        onLogin={(s) => {
          setSession(s);
          setSessionState(s);
        }}
      />
    );

  const detail = /^\/calls\/(\d+)$/.exec(location.path);
  if (!detail && location.path !== '/calls') {
    navigate('/calls', true);
    return null;
  }
  const logout = (): void => {
    setSession(null);
    setSessionState(null);
  };
  return (
    <>
      <AppHeader session={session} onLogout={logout} />
      {detail ? (
        <CallDetailPage session={session} id={Number(detail[1])} query={location.query} />
      ) : (
        <CallListPage session={session} query={location.query} />
      )}
    </>
  );
}

render(<App />, document.getElementById('app')!);
