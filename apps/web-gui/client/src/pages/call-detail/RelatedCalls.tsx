import type { LinkedLegRecord } from '@callscope/cdr-model';
import type { RelatedCallsBody } from '../../../../src/api-types.ts';
import { Link } from '../../components/Link.tsx';
import { formatDuration, formatTime } from '../../lib/format.ts';
import { legSearchHref, linkText, relatedEntries } from './call-legs.ts';

/** Link of a call's detail screen. */
export const callHref = (id: number, start: string): string => `/calls/${id}?start=${encodeURIComponent(start)}`;

/**
 * The other legs of the conversation, each one click away (a real link: middle-click opens a
 * tab): what the database relates to this call (X-CID, Session-ID, icid, correlation header, same
 * numbers), merged with the legs the sensor linked itself (`linked_legs`, marked "sensor"); a
 * sensor-linked leg the database did not return is listed with a search for its Call-ID.
 */
export function RelatedCalls(props: { related: RelatedCallsBody; linked: readonly LinkedLegRecord[] }) {
  const entries = relatedEntries(props.related.calls, props.linked);
  if (entries.length === 0) return <p class="cd-muted">No related legs.</p>;
  return (
    <table class="rel">
      <tbody>
        {entries.map((e) =>
          e.kind === 'row' ? (
            <tr key={`${e.row.id}-${e.row.start}`}>
              <td>
                <Link href={callHref(e.row.id, e.row.start)}>
                  {e.row.caller} → {e.row.called}
                </Link>
              </td>
              <td class="cd-muted">
                {e.relation}
                {e.linked !== null ? (
                  <span class="rel-sensor" title={`the sensor linked this leg by ${linkText(e.linked)}`}>
                    {' '}
                    · sensor
                  </span>
                ) : null}
              </td>
              <td class="mono">{formatTime(e.row.start, 3)}</td>
              <td class="num">{formatDuration(e.row.duration)}</td>
              <td class="num">{e.row.last_sip_code ?? '–'}</td>
              <td class="cd-muted">{e.row.sensor}</td>
            </tr>
          ) : (
            <tr key={`linked-${e.leg.call_id}-${e.leg.start}`}>
              <td>
                <Link href={legSearchHref(e.leg.call_id, e.leg.start)} title="search this Call-ID around its start">
                  <span class="mono">{e.leg.call_id}</span>
                </Link>
              </td>
              <td class="cd-muted">
                {linkText(e.leg)} <span class="rel-sensor">· sensor</span>
              </td>
              <td class="mono">{formatTime(e.leg.start, 3)}</td>
              <td class="cd-muted" colSpan={3} title="the sensor linked this leg; its record is not in the database's answer (not stored yet, or over an hour away)">
                not in the database
              </td>
            </tr>
          ),
        )}
      </tbody>
    </table>
  );
}
