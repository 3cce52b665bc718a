/**
 * The JSON the call detail reads from `GET /api/v1/calls/{id}/sip` and `/streams`: the shapes of
 * `CallSipLadder` and `CallStreamSeries` of libs/call-artifacts, restated with only the fields
 * this page uses.
 *
 * Why restated instead of `import type { CallSipLadder } from '@callscope/call-artifacts'`: a
 * type-only import still makes the browser's typecheck (`tsc -p client`, bundler resolution, no
 * Node types) walk the library's whole source graph, spool reader, pcap-store and runtime
 * included, and runtime's CommonJS interop does not typecheck there. Every field below has the
 * same name and type as in the library (read-call-sip.ts, read-call-stream-series.ts), and
 * `artifacts/artifact-types.check.ts` (server side, which may import the library) fails the
 * typecheck when the library's objects stop being assignable to these.
 */

/** An address:port as the artifacts name it. */
export interface Endpoint {
  readonly ip: string;
  readonly port: number;
}

/** One SIP message of the ladder (`SipLadderMessage`). */
export interface LadderMessage {
  /** Capture time, ISO UTC with µs. */
  readonly time: string;
  readonly src: Endpoint;
  readonly dst: Endpoint;
  readonly transport: 'udp' | 'tcp';
  /** Request-Line or Status-Line as written. */
  readonly firstLine: string;
  /** Request method, or the CSeq method of a response. */
  readonly method: string;
  /** Status code of a response, null for a request. */
  readonly statusCode: number | null;
  readonly cseq: number;
  readonly headers: readonly { readonly name: string; readonly value: string }[];
  /** Body as text, '' when none. */
  readonly body: string;
  /** Same first line, CSeq, branch and direction as an earlier message: shown dimmed. */
  readonly retransmission: boolean;
  /** The whole message as text. */
  readonly raw: string;
}

/** Body of `GET /calls/{id}/sip` (`CallSipLadder`). */
export interface LadderBody {
  readonly callId: string;
  readonly count: number;
  /** More messages than the sensor returns were in the spool; `messagesSeen` counts them all. */
  readonly truncated: boolean;
  readonly messagesSeen: number;
  readonly messages: readonly LadderMessage[];
}

/** One second of one stream (`StreamBucket`). */
export interface SeriesBucket {
  /** Bucket number from the stream's first packet. */
  readonly index: number;
  /** Start of the bucket, ISO UTC with µs. */
  readonly start: string;
  readonly packets: number;
  /** Change of the lost count over the bucket (negative with duplicates). */
  readonly lost: number;
  readonly jitterMaxMs: number;
  readonly maxDeltaMs: number;
  /** Interval MOS behind each simulated jitter buffer; null when too few packets to rate. */
  readonly mos: { readonly f1: number; readonly f2: number; readonly adapt: number } | null;
}

/** The series of one RTP stream (`StreamSeries`). */
export interface SeriesStream {
  readonly ssrc: string;
  readonly src: Endpoint;
  readonly dst: Endpoint;
  readonly side: 'caller' | 'callee' | null;
  readonly payloadType: number;
  readonly codec: string | null;
  readonly packets: number;
  readonly lost: number;
  /** Buckets with at least one packet, in order. */
  readonly buckets: readonly SeriesBucket[];
}

/** Body of `GET /calls/{id}/streams` (`CallStreamSeries`). */
export interface SeriesBody {
  readonly callId: string;
  readonly bucketMs: number;
  readonly streams: readonly SeriesStream[];
  readonly rtpMissing: boolean;
  readonly sipMissing: boolean;
}
