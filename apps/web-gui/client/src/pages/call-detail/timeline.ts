/**
 * The call's one time axis: seconds since the call's start (its first INVITE). The charts' x, the
 * event marks drawn on them (INVITE, answer, re-INVITE / hold, BYE, DTMF) and the audio's position
 * all use it, so a loss burst on a chart lines up with the re-INVITE before it on the ladder.
 * Pure, tested.
 */
import { isoToMicros } from '../../lib/format.ts';
import type { DtmfRecord, StreamRecord } from '@callscope/cdr-model';
import type { LadderMessage, SeriesBody } from '../../../../src/artifact-types.ts';

/** Seconds from `fromIso` to `toIso` (µs exact). */
export const secondsBetween = (fromIso: string, toIso: string): number => (isoToMicros(toIso) - isoToMicros(fromIso)) / 1e6;

/** One stream's curves, one value per second of {@link ChartData.x} (null: no packet that second, or no rating). */
export interface StreamCurves {
  readonly ssrc: string;
  /** `caller 192.0.2.10:20000 → 198.51.100.20:40000 0x1a2b3c4d` */
  readonly label: string;
  readonly side: 'caller' | 'callee' | null;
  readonly jitterMs: (number | null)[];
  readonly lost: (number | null)[];
  readonly mosAdapt: (number | null)[];
  readonly mosF1: (number | null)[];
  readonly mosF2: (number | null)[];
}

/** The charts' data: uPlot's aligned form, one shared x. */
export interface ChartData {
  /** Seconds since the call's start, one per second (whole seconds, so every stream shares the grid). */
  readonly x: number[];
  readonly streams: StreamCurves[];
}

/** Most seconds charted: the sensor caps calls at 4 h. */
export const MAX_CHART_SECONDS = 4 * 3600 + 1;

/**
 * Puts every stream's 1 s buckets on one grid of whole seconds since the call's start. A stream's
 * bucket i starts at its first packet + i s; with the first packet at f s after the start it lands
 * on second ⌊f⌋ + i (exactly one bucket per second, since i is whole). Seconds a stream had no
 * packet stay null, so the curves break where the media stopped (hold, one-way audio).
 */
export function shapeSeries(series: SeriesBody, callStart: string): ChartData {
  const placed = series.streams.map((s) => {
    const first = s.buckets[0];
    const base = first ? Math.floor(secondsBetween(callStart, first.start)) - first.index : 0;
    return { s, base };
  });
  let lo = Infinity;
  let hi = -Infinity;
  for (const { s, base } of placed) {
    if (s.buckets.length === 0) continue;
    lo = Math.min(lo, base + s.buckets[0]!.index);
    hi = Math.max(hi, base + s.buckets[s.buckets.length - 1]!.index);
  }
  if (lo > hi) return { x: [], streams: [] };
  lo = Math.min(lo, 0);
  hi = Math.min(hi, lo + MAX_CHART_SECONDS - 1);
  const len = hi - lo + 1;
  const x = Array.from({ length: len }, (_, i) => lo + i);
  const streams = placed.map(({ s, base }) => {
    const empty = (): (number | null)[] => new Array<number | null>(len).fill(null);
    const c: StreamCurves = {
      ssrc: s.ssrc,
      label: `${s.side ?? '?'} ${s.src.ip}:${s.src.port} → ${s.dst.ip}:${s.dst.port} ${s.ssrc}`,
      side: s.side,
      jitterMs: empty(),
      lost: empty(),
      mosAdapt: empty(),
      mosF1: empty(),
      mosF2: empty(),
    };
    for (const b of s.buckets) {
      const i = base + b.index - lo;
      if (i < 0 || i >= len) continue;
      c.jitterMs[i] = b.jitterMaxMs;
      c.lost[i] = b.lost;
      if (b.mos) {
        c.mosAdapt[i] = b.mos.adapt;
        c.mosF1[i] = b.mos.f1;
        c.mosF2[i] = b.mos.f2;
      }
    }
    return c;
  });
  return { x, streams };
}

/** A moment of the call marked on the charts. */
export interface TimelineEvent {
  /** Seconds since the call's start. */
  readonly t: number;
  /** `INVITE`, `answer`, `re-INVITE`, `hold`, `BYE`, `DTMF 5`, ... */
  readonly label: string;
  readonly kind: 'sip' | 'dtmf';
}

/** Requests worth a mark: they change the call's media or end it. */
const MARKED_METHODS = new Set(['INVITE', 'UPDATE', 'BYE', 'CANCEL', 'REFER', 'INFO']);

/**
 * The call's events for the charts: the first INVITE, the answer, later INVITEs / UPDATEs (`hold`
 * when their SDP sends no more media: a=sendonly / a=inactive, RFC 3264 §8.4), BYE, CANCEL, REFER,
 * INFO, and each DTMF digit. Retransmissions are left out.
 */
export function timelineEvents(callStart: string, answer: string | null, messages: readonly LadderMessage[], dtmf: readonly DtmfRecord[]): TimelineEvent[] {
  const events: TimelineEvent[] = [];
  let invites = 0;
  for (const m of messages) {
    if (m.statusCode !== null || m.retransmission || !MARKED_METHODS.has(m.method)) continue;
    let label = m.method;
    if (m.method === 'INVITE' || m.method === 'UPDATE') {
      if (m.method === 'INVITE' && invites++ === 0) label = 'INVITE';
      else if (/^a=(sendonly|inactive)\s*$/m.test(m.body)) label = 'hold';
      else label = `re-${m.method}`;
    }
    events.push({ t: secondsBetween(callStart, m.time), label, kind: 'sip' });
  }
  if (answer !== null) events.push({ t: secondsBetween(callStart, answer), label: 'answer', kind: 'sip' });
  for (const d of dtmf) events.push({ t: secondsBetween(callStart, d.ts), label: `DTMF ${d.digit}`, kind: 'dtmf' });
  return events.sort((a, b) => a.t - b.t);
}

/**
 * Where the call's WAV starts on the call's timeline: sample 0 is the first arrival of a stream
 * on a leg (libs/call-artifacts' audio plan), that is the earliest stream's first packet.
 *
 * @returns seconds since the call's start; 0 without streams
 */
export function audioOffset(callStart: string, streams: readonly Pick<StreamRecord, 'first'>[]): number {
  let min = Infinity;
  for (const s of streams) min = Math.min(min, isoToMicros(s.first));
  return Number.isFinite(min) ? (min - isoToMicros(callStart)) / 1e6 : 0;
}

/**
 * A horizontal time axis in pixels: `width` px show call seconds `lo` to `hi`. The waveform uses
 * the charts' axis (their plot area and x range), so a gap in the audio sits under the loss that
 * caused it.
 */
export interface PixelAxis {
  readonly lo: number;
  readonly hi: number;
  readonly width: number;
}

/** Call time (s since start) at pixel `x` of the axis. */
export const timeAtX = (x: number, a: PixelAxis): number => a.lo + (x / a.width) * (a.hi - a.lo);

/** Pixel of call time `t` on the axis (outside 0..width when `t` is outside lo..hi). */
export const xOfTime = (t: number, a: PixelAxis): number => ((t - a.lo) / (a.hi - a.lo)) * a.width;

/** Tick step (s) for an axis: the smallest usual step that leaves `minPx` between ticks. */
export function tickStep(a: PixelAxis, minPx = 60): number {
  const pxPerS = a.width / Math.max(1e-9, a.hi - a.lo);
  return [0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600].find((s) => pxPerS * s >= minPx) ?? 7200;
}

/**
 * The columns of a peaks array (`columns` over `seconds` of audio starting at call time `offset`)
 * that pixel `x` covers, as [first, end); empty (first >= end) where the pixel lies outside the audio.
 */
export function peakColumnsAt(x: number, a: PixelAxis, offset: number, seconds: number, columns: number): [number, number] {
  if (seconds <= 0) return [0, 0];
  const t0 = timeAtX(x, a) - offset;
  const t1 = timeAtX(x + 1, a) - offset;
  if (t1 <= 0 || t0 >= seconds) return [0, 0];
  const first = Math.max(0, Math.floor((t0 / seconds) * columns));
  const end = Math.min(columns, Math.max(first + 1, Math.floor((t1 / seconds) * columns)));
  return [first, end];
}
