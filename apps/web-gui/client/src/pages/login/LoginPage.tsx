import type { SessionBody } from '../../../../src/api-types.ts';

/** Login form (to be built: issue 15). */
export function LoginPage(_props: { onLogin: (session: SessionBody) => void }) {
  return <main>login</main>;
}
