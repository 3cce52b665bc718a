import type { StreamRecord } from '@callscope/cdr-model';
import { formatNumber, formatOffset } from '../../lib/format.ts';
import { bandClass, jitterBand, lossBand, mosBand, type QualityBand } from '../../lib/quality.ts';
import { endpointKey } from './ladder-layout.ts';

/** A number cell coloured by its band; the band is also written in the title (colour is never the only signal). */
function Q(props: { value: string; band: QualityBand; title?: string }) {
  return (
    <td class={`num ${bandClass(props.band)}`} title={`${props.title ? `${props.title}: ` : ''}${props.band === 'none' ? 'no value' : props.band}`}>
      {props.value}
    </td>
  );
}

/**
 * Every RTP stream of the call with Wireshark's RTP stream analysis figures (packets, lost, seq
 * errors, max delta, max and mean jitter; RFC 3550), the E-model MOS behind the 50 ms / 200 ms /
 * adaptive jitter buffers and the worst 10 s interval, and what RTCP reported next to the measured
 * loss and jitter. Values are coloured by lib/quality.ts bands, and always shown.
 */
export function StreamsTable(props: { streams: readonly StreamRecord[] }) {
  if (props.streams.length === 0) return <p class="cd-muted">No RTP stream in this call.</p>;
  return (
    <div class="st-wrap">
      <table class="st">
        <thead>
          <tr>
            <th>side</th>
            <th>src → dst</th>
            <th>SSRC</th>
            <th>codec</th>
            <th class="num" title="packets received">pkts</th>
            <th class="num" title="expected − received (Wireshark), and % of expected">lost (%)</th>
            <th class="num" title="sequence errors">seq err</th>
            <th class="num" title="largest gap between packets, ms">max Δ</th>
            <th class="num" title="RFC 3550 interarrival jitter, ms">jit max</th>
            <th class="num">jit mean</th>
            <th class="num" title="MOS behind a fixed 50 ms jitter buffer (G.107 E-model)">MOS F1</th>
            <th class="num" title="fixed 200 ms jitter buffer">F2</th>
            <th class="num" title="adaptive jitter buffer (up to 500 ms)">adapt</th>
            <th class="num" title="lowest MOS over any 10 s window">min</th>
            <th class="num" title="RTCP: highest cumulative lost the peer reported (and highest fraction lost)">RTCP lost</th>
            <th class="num" title="RTCP: highest jitter the peer reported, ms">RTCP jit</th>
            <th class="num" title="RTCP: highest round-trip time from LSR/DLSR, ms">RTT</th>
          </tr>
        </thead>
        <tbody>
          {props.streams.map((s) => (
            <tr key={`${s.ssrc}-${s.src_ip}-${s.src_port}-${s.dst_ip}-${s.dst_port}`}>
              <td>{s.side}</td>
              <td class="mono st-addr">
                {endpointKey({ ip: s.src_ip, port: s.src_port })} → {endpointKey({ ip: s.dst_ip, port: s.dst_port })}
              </td>
              <td class="mono">{s.ssrc}</td>
              <CodecCell stream={s} />
              <td class="num">{s.packets}</td>
              <Q value={`${s.lost} (${formatNumber(s.lost_pct, 2)})`} band={lossBand(s.lost_pct)} title="loss" />
              <td class="num">{s.seq_errors}</td>
              <td class="num">{formatNumber(s.delta_max_ms, 1)}</td>
              <Q value={formatNumber(s.jitter_max_ms, 2)} band={jitterBand(s.jitter_max_ms)} title="jitter" />
              <Q value={formatNumber(s.jitter_mean_ms, 2)} band={jitterBand(s.jitter_mean_ms)} title="jitter" />
              <Q value={formatNumber(s.mos_f1, 2)} band={mosBand(s.mos_f1)} title="MOS" />
              <Q value={formatNumber(s.mos_f2, 2)} band={mosBand(s.mos_f2)} title="MOS" />
              <Q value={formatNumber(s.mos_adapt, 2)} band={mosBand(s.mos_adapt)} title="MOS" />
              <Q value={formatNumber(s.mos_min, 2)} band={mosBand(s.mos_min)} title="MOS" />
              {s.rtcp === null ? (
                <td class="num cd-muted" colSpan={3} title="no RTCP seen for this stream">
                  no RTCP
                </td>
              ) : (
                <>
                  <Q value={`${s.rtcp.lost} (${formatNumber(s.rtcp.fraction_lost_max_pct, 1)} %)`} band={lossBand(s.rtcp.fraction_lost_max_pct)} title="RTCP loss" />
                  <Q value={formatNumber(s.rtcp.jitter_max_ms, 2)} band={jitterBand(s.rtcp.jitter_max_ms)} title="RTCP jitter" />
                  <td class="num">{s.rtcp.rtt_max_ms === null ? '–' : formatNumber(s.rtcp.rtt_max_ms, 1)}</td>
                </>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/**
 * The stream's codec; after a codec change (a re-INVITE switching PCMA to PCMU on the same SSRC)
 * every codec in order, each with the time it started from the stream's first packet in the title.
 */
function CodecCell(props: { stream: StreamRecord }) {
  const s = props.stream;
  const name = (c: { codec: string | null; payload_type: number }) => c.codec ?? `PT ${c.payload_type}`;
  // Records written before the list existed read back with an empty one.
  if (s.codecs.length <= 1) return <td title={`payload type ${s.payload_type}`}>{s.codec ?? `PT ${s.payload_type}`}</td>;
  const title = s.codecs.map((c) => `${name(c)} (payload type ${c.payload_type}) from ${formatOffset(s.first, c.from)}`).join('\n');
  return (
    <td class="st-codecs" title={title}>
      {s.codecs.map(name).join(' → ')}
    </td>
  );
}
