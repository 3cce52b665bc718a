import { formatIsoMicros, type IsoMicros } from '@callscope/cdr-model';
import { formatIp, type DecodedPacket } from '@callscope/packet';
import { CODEC_NAMES, JitterBufferIndex, type PayloadTypeMap, type RtpHeader, RtpStreamStats } from '@callscope/rtp';
import { forEachCallRtp, readAnnouncements, streamMedia, type MediaSide } from './call-media.js';
import type { CallArtifactQuery } from './spool-records.js';

/** Most streams followed per call; packets of further streams are counted in `untrackedPackets`. */
export const MAX_SERIES_STREAMS = 64;
/** Bucket length of the series, ms (also the interval of the per-bucket MOS). */
export const SERIES_BUCKET_MS = 1000;
/** Interval MOS values kept per stream before they are read: far above the reordering window's lag. */
const INTERVAL_RING = 64;

/** Which party sent a stream, from the SDP that announced its addresses; null when no SDP names them. */
export type SeriesSide = MediaSide;

/** One second of one stream. */
export interface StreamBucket {
  /** Bucket number from the stream's first packet (bucket i covers [first + i s, first + (i+1) s)). */
  index: number;
  /** Start of the bucket, UTC with µs. */
  start: IsoMicros;
  /** RTP packets that arrived in the bucket (duplicates included, as the CDR counts them). */
  packets: number;
  /**
   * Change of the stream's Wireshark lost count (expected - received) over the bucket: the
   * buckets add up to the CDR's `lost`; negative when duplicates or late packets arrived.
   */
  lost: number;
  /** Highest RFC 3550 interarrival jitter after a packet of the bucket, ms (libs/rtp, Wireshark's). */
  jitterMaxMs: number;
  /** Largest arrival gap to the previous packet of the stream ending in the bucket, ms. */
  maxDeltaMs: number;
  /**
   * E-model MOS of the bucket behind each simulated jitter buffer (libs/rtp interval MOS with
   * 1 s intervals); null when the bucket had too few judged packets (< 25) to rate.
   */
  mos: { f1: number; f2: number; adapt: number } | null;
}

/** The series of one RTP stream. */
export interface StreamSeries {
  /** SSRC as `0x` + 8 lowercase hex digits (as in the CDR). */
  ssrc: string;
  src: { ip: string; port: number };
  dst: { ip: string; port: number };
  side: SeriesSide;
  /** Payload type of the stream's first packet, and its codec name (SDP rtpmap or static table). */
  payloadType: number;
  codec: string | null;
  /** Totals over the buckets. */
  packets: number;
  lost: number;
  /** Buckets with at least one packet, in order (seconds without packets are left out). */
  buckets: StreamBucket[];
}

/** The stream series of one call. */
export interface CallStreamSeries {
  callId: string;
  bucketMs: number;
  streams: StreamSeries[];
  /** The spool holds no RTP file for the call (a call without media, or a deleted file): `streams` is empty. */
  rtpMissing: boolean;
  /** The spool holds no SIP file: sides and dynamic payload types are unknown. */
  sipMissing: boolean;
  /** RTP packets of streams past {@link MAX_SERIES_STREAMS}. */
  untrackedPackets: number;
  /** UDP records of the RTP file that were neither RTP nor RTCP, or did not decode. */
  skippedPackets: number;
  /** Spool files that ended inside a record: their complete records were read. */
  filesTruncated: { path: string; code: string }[];
}

class StreamState {
  readonly stats: RtpStreamStats;
  readonly buckets: StreamBucket[] = [];
  readonly byIndex = new Map<number, StreamBucket>();
  /** Arrival of the first packet (capture seconds, nanoseconds); -1 before it. */
  firstSec = -1;
  firstNsec = 0;
  /** Arrival of the previous packet, ns from the first (a double: exact for ~104 days). */
  lastNs = 0;
  lastLost = 0;
  intervalsRead = 0;
  packets = 0;
  constructor(
    readonly series: StreamSeries,
    payloadTypes: PayloadTypeMap,
    /** IPv4 identity for the per-packet match without building the map key (0 ports: IPv6). */
    readonly ssrc: number,
    readonly src4: number,
    readonly dst4: number,
    readonly srcPort: number,
    readonly dstPort: number,
  ) {
    this.stats = new RtpStreamStats({ payloadTypes, intervalMs: SERIES_BUCKET_MS, intervalCapacity: INTERVAL_RING });
  }

  /** Reads interval MOS values rated since the last call into their buckets. */
  readIntervals(): void {
    const s = this.stats;
    const count = s.intervalCount;
    const kept = s.intervalsKept;
    const index = s.intervalIndex;
    for (let n = Math.max(this.intervalsRead, count - kept); n < count; n++) {
      const i = n - (count - kept);
      const slot = n % s.intervalCapacity;
      const bucket = this.byIndex.get(index[slot]!);
      if (bucket !== undefined) {
        bucket.mos = {
          f1: round(s.intervalMosAt(i, JitterBufferIndex.Fixed50)),
          f2: round(s.intervalMosAt(i, JitterBufferIndex.Fixed200)),
          adapt: round(s.intervalMosAt(i, JitterBufferIndex.Adaptive500)),
        };
      }
    }
    this.intervalsRead = count;
  }
}

const round = (x: number, digits = 3): number => Math.round(x * 10 ** digits) / 10 ** digits;

/**
 * Per-second series of every RTP stream of one call, computed from the spooled RTP with
 * @callscope/rtp's `RtpStreamStats` as packets stream by: memory is one record, one statistics
 * block per stream and the buckets (one small object per second with packets), never the packets.
 *
 * Streams are (SSRC, source, destination) as in the CDR. The side and the payload-type map come
 * from the SDP in the call's spooled SIP: a stream sent to an address the caller's SDP announced
 * is the callee's, and uses the payload types of that SDP.
 *
 * @param spoolDir - spool root (the sniffer's `--spool`)
 * @param query - the call as its CDR names it
 * @throws SpoolError `CorruptFile` when a file is not a readable capture
 */
export async function readCallStreamSeries(spoolDir: string, query: CallArtifactQuery): Promise<CallStreamSeries> {
  const announced = await readAnnouncements(spoolDir, query);
  const result: CallStreamSeries = {
    callId: query.callId,
    bucketMs: SERIES_BUCKET_MS,
    streams: [],
    rtpMissing: false,
    sipMissing: announced === null,
    untrackedPackets: 0,
    skippedPackets: 0,
    filesTruncated: [],
  };
  const states = new Map<string, StreamState>();
  let last: StreamState | null = null;
  /** The stream of the packet in `p` (SSRC `ssrc`), created on its first packet; null past the cap. */
  const streamOf = (p: DecodedPacket, h: RtpHeader): StreamState | null => {
    const ssrc = h.ssrc;
    const srcIp = formatIp(p.ipVersion, p.src4, p.src6);
    const dstIp = formatIp(p.ipVersion, p.dst4, p.dst6);
    const key = `${ssrc} ${srcIp} ${p.srcPort} ${dstIp} ${p.dstPort}`;
    let st = states.get(key);
    if (st !== undefined) return st;
    if (states.size >= MAX_SERIES_STREAMS) return null;
    const { side, payloadTypes } = streamMedia(announced, srcIp, p.srcPort, dstIp, p.dstPort);
    const codec = payloadTypes.codec[h.payloadType]!;
    const series: StreamSeries = {
      ssrc: `0x${(ssrc >>> 0).toString(16).padStart(8, '0')}`,
      src: { ip: srcIp, port: p.srcPort },
      dst: { ip: dstIp, port: p.dstPort },
      side,
      payloadType: h.payloadType,
      codec: codec === 0 ? null : (CODEC_NAMES[codec] ?? null),
      packets: 0,
      lost: 0,
      buckets: [],
    };
    st = new StreamState(series, payloadTypes, ssrc, p.src4, p.dst4, p.srcPort, p.dstPort);
    states.set(key, st);
    result.streams.push(series);
    return st;
  };
  const issues = await forEachCallRtp(spoolDir, query, result, (rec, p, h) => {
    // Consecutive packets mostly belong to the same stream: compared as numbers, no key built.
    let st = last;
    if (st === null || p.ipVersion !== 4 || st.ssrc !== h.ssrc || st.src4 !== p.src4 || st.dst4 !== p.dst4 || st.srcPort !== p.srcPort || st.dstPort !== p.dstPort) {
      st = streamOf(p, h);
      if (st === null) {
        result.untrackedPackets++;
        return;
      }
      last = p.ipVersion === 4 ? st : null;
    }
    if (st.firstSec < 0) {
      st.firstSec = rec.tsSec;
      st.firstNsec = rec.tsNsec;
    }
    const nowNs = (rec.tsSec - st.firstSec) * 1e9 + (rec.tsNsec - st.firstNsec);
    const s = st.stats;
    s.update(h, rec.tsSec, rec.tsNsec, h.payloadLength);
    const index = nowNs < 0 ? 0 : Math.floor(nowNs / (SERIES_BUCKET_MS * 1e6));
    let bucket = st.byIndex.get(index);
    if (bucket === undefined) {
      const startNs = st.firstNsec + index * SERIES_BUCKET_MS * 1e6;
      bucket = {
        index,
        start: formatIsoMicros(st.firstSec + Math.floor(startNs / 1e9), Math.floor((startNs % 1e9) / 1000)),
        packets: 0,
        lost: 0,
        jitterMaxMs: 0,
        maxDeltaMs: 0,
        mos: null,
      };
      st.byIndex.set(index, bucket);
      st.series.buckets.push(bucket);
    }
    bucket.packets++;
    const lost = s.wiresharkLost;
    bucket.lost += lost - st.lastLost;
    st.lastLost = lost;
    bucket.jitterMaxMs = Math.max(bucket.jitterMaxMs, round(s.jitterMs));
    if (nowNs > st.lastNs) bucket.maxDeltaMs = Math.max(bucket.maxDeltaMs, round((nowNs - st.lastNs) / 1e6));
    st.lastNs = nowNs;
    st.readIntervals();
  });
  if (issues === null) {
    result.rtpMissing = true;
    return result;
  }
  result.filesTruncated = issues.truncated;
  for (const st of states.values()) {
    st.stats.finish();
    st.readIntervals();
    st.series.packets = st.stats.packets;
    st.series.lost = st.stats.wiresharkLost;
    st.series.buckets.sort((a, b) => a.index - b.index);
  }
  return result;
}
