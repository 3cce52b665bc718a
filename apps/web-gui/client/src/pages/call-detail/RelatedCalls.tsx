import type { RelatedCallsBody } from '../../../../src/api-types.ts';
import { formatDuration, formatTime } from '../../lib/format.ts';
import { navigate } from '../../router.ts';

const RELATION_TEXT = { x_cid: 'same X-CID', session_id: 'same Session-ID', same_numbers: 'same numbers' } as const;

/** Link of a call's detail screen. */
export const callHref = (id: number, start: string): string => `/calls/${id}?start=${encodeURIComponent(start)}`;

/** The other legs of the conversation, each one click away (a real link: middle-click opens a tab). */
export function RelatedCalls(props: { related: RelatedCallsBody }) {
  if (props.related.calls.length === 0) return <p class="cd-muted">No related legs.</p>;
  return (
    <table class="rel">
      <tbody>
        {props.related.calls.map((r) => (
          <tr key={r.id}>
            <td>
              <a
                href={callHref(r.id, r.start)}
                onClick={(e) => {
                  if (e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey) return;
                  e.preventDefault();
                  navigate(callHref(r.id, r.start));
                }}
              >
                {r.caller} → {r.called}
              </a>
            </td>
            <td class="cd-muted">{RELATION_TEXT[r.relation]}</td>
            <td class="mono">{formatTime(r.start, 3)}</td>
            <td class="num">{formatDuration(r.duration)}</td>
            <td class="num">{r.last_sip_code ?? '–'}</td>
            <td class="cd-muted">{r.sensor}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
