import type { SessionBody } from '../../../../src/api-types.ts';

/** The call list (to be built: issue 15). */
export function CallListPage(_props: { session: SessionBody; query: URLSearchParams }) {
  return <main>calls</main>;
}
