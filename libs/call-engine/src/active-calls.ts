import { CODEC_NAMES, Codec, JitterBufferIndex } from '@callscope/rtp';
import { isoFromMicros, type CallDropped, type CallRecord, type CallSide, type IsoMicros, type SipTransport } from '@callscope/cdr-model';
import { buildCallRecord, droppedRecord } from './call-record.js';
import { CallPhase, type Call, type CallStream } from './call.js';

/**
 * Where an open call is, for the live view:
 * - `calling`: INVITE sent, no ringing yet (a 100 Trying at most);
 * - `ringing`: a 18x (or a 2xx not yet seen as the final) came, no answer;
 * - `answered`: a 2xx answered the INVITE;
 * - `terminating`: a BYE was sent, its response not seen yet;
 * - `ended`: over (BYE answered, or a final non-2xx) and waiting a few seconds for late packets
 *   before its CDR is written.
 */
export type ActiveCallState = 'calling' | 'ringing' | 'answered' | 'terminating' | 'ended';

/**
 * One stream of an open call in the live list: what its statistics hold now, read without
 * finishing them (the last {@link https://www.rfc-editor.org/rfc/rfc3550 RFC 3550} reordering
 * window, 128 packets, is not judged yet, so loss and MOS trail the stream by that much).
 */
export interface ActiveStreamSummary {
  /** SSRC as `0x` and 8 hex digits, as in the CDR. */
  ssrc: string;
  side: CallSide;
  /** Codec of the first audio payload type, null while unknown. */
  codec: string | null;
  /** Packets received, duplicates included (the CDR's `packets`). */
  packets: number;
  /** Wireshark's lost count so far (the CDR's `lost`; negative with duplicates). */
  lost: number;
  /** Wireshark's jitter at the last packet, ms. */
  jitter_ms: number;
  /** Largest Wireshark jitter so far, ms (the CDR's `jitter_max_ms`). */
  jitter_max_ms: number;
  /**
   * MOS so far behind the fixed 50 ms jitter buffer (the CDR's `mos_f1`) over the packets judged
   * so far: the E-model on the stream's running loss counts, a constant-time computation (no
   * packet is revisited). Null before 128 packets (nothing judged yet).
   */
  mos_f1: number | null;
  /** Lowest 10-second interval MOS so far behind the same buffer (a stored value); null before the first rated interval. */
  mos_min: number | null;
}

/** One open call in the live list ({@link PacketPipeline.activeCalls}). Plain JSON. */
export interface ActiveCallSummary {
  call_id: string;
  caller: string;
  called: string;
  caller_ip: string;
  caller_port: number;
  callee_ip: string;
  callee_port: number;
  transport: SipTransport;
  /** The initial INVITE's capture time. */
  start: IsoMicros;
  answer: IsoMicros | null;
  state: ActiveCallState;
  /** Status code of the dialog's last SIP response (provisional ones too), null before any. */
  last_sip_code: number | null;
  sip_packets: number;
  /** Seconds since the INVITE in packet time (the pipeline's clock: the last trusted packet or tick). */
  age_s: number;
  /** What the call lost inside the sniffer so far (the CDR's `dropped`), null when nothing. */
  dropped: CallDropped | null;
  streams: ActiveStreamSummary[];
}

/**
 * One open call in detail ({@link PacketPipeline.activeCall}): its summary, and `record`, the CDR
 * it would get if the sensor stopped now (`end_reason` `sensor_shutdown` unless its own outcome
 * is known, `end` its last SIP packet), with every stream's full figures. Built on copies of the
 * streams' statistics: the call and its final CDR are untouched.
 */
export interface ActiveCallDetail extends ActiveCallSummary {
  record: CallRecord;
}

/** Options of {@link PacketPipeline.activeCalls}. */
export interface ActiveCallsOptions {
  /** Most calls listed (oldest first); default 1000. */
  limit?: number;
  /** Calls skipped first (paging through a large table); default 0. */
  offset?: number;
}

/** Calls listed when no limit is given: a page, not 200,000 calls at once. */
export const DEFAULT_ACTIVE_CALLS_LIMIT = 1000;

/** The live state of `call`, `nowUs` being packet time. Reads the call; changes nothing. */
export function summarizeCall(call: Call, nowUs: number): ActiveCallSummary {
  const streams: ActiveStreamSummary[] = new Array<ActiveStreamSummary>(call.streams.length);
  for (let i = 0; i < call.streams.length; i++) streams[i] = summarizeStream(call.streams[i]!);
  return {
    call_id: call.callId,
    caller: call.caller,
    called: call.called,
    caller_ip: call.callerIp,
    caller_port: call.callerPort,
    callee_ip: call.calleeIp,
    callee_port: call.calleePort,
    transport: call.transport,
    start: isoFromMicros(call.startUs),
    answer: call.answerUs === null ? null : isoFromMicros(call.answerUs),
    state: stateOf(call),
    last_sip_code: call.lastResponseCode,
    sip_packets: call.sipPackets,
    age_s: Math.max(0, Math.round(nowUs - call.startUs) / 1e6),
    dropped: droppedRecord(call.dropped),
    streams,
  };
}

/** {@link summarizeCall} plus the CDR the call would get now, built on snapshots of its streams. */
export function detailCall(call: Call, nowUs: number, sensor: string): ActiveCallDetail {
  const snapshots = call.streams.map((s) => s.snapshot());
  return { ...summarizeCall(call, nowUs), record: buildCallRecord(call, 'sensor_shutdown', sensor, snapshots) };
}

function stateOf(call: Call): ActiveCallState {
  switch (call.phase) {
    case CallPhase.Setup:
      return call.firstProgressUs === null ? 'calling' : 'ringing';
    case CallPhase.Answered:
      return 'answered';
    case CallPhase.ByeSent:
      return 'terminating';
    default:
      return 'ended';
  }
}

/**
 * A stream's live figures, read from its state block through getters that make no view object
 * (a view per stream would stay allocated for the stream's life once the list was read).
 */
function summarizeStream(s: CallStream): ActiveStreamSummary {
  const pt = s.audioPayloadType;
  const codec = pt >= 0 ? s.payloadTypes.codec[pt]! : Codec.Unknown;
  return {
    ssrc: `0x${s.ssrc.toString(16).padStart(8, '0')}`,
    side: s.side,
    codec: codec === Codec.Unknown ? null : CODEC_NAMES[codec]!,
    packets: s.packets,
    lost: s.wiresharkLost,
    jitter_ms: round(s.jitterMs, 3) ?? 0,
    jitter_max_ms: round(s.maxJitterMs, 3) ?? 0,
    mos_f1: round(s.mos(JitterBufferIndex.Fixed50), 2),
    mos_min: round(s.lowestIntervalMos(JitterBufferIndex.Fixed50), 2),
  };
}

/** A finite number rounded to `digits` decimals, or null (NaN: nothing to rate yet). */
function round(value: number, digits: number): number | null {
  if (!Number.isFinite(value)) return null;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
