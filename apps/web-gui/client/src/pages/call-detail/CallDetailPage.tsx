import type { SessionBody } from '../../../../src/api-types.ts';

/** One call on one screen (to be built: issue 15). */
export function CallDetailPage(_props: { session: SessionBody; id: number; query: URLSearchParams }) {
  return <main>call</main>;
}
