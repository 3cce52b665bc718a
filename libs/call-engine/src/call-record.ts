import { CODEC_NAMES, Codec, JitterBufferIndex, dtmfDigit, type RtcpSessionStats } from '@callscope/rtp';
import { MAX_BRANCHES_PER_CALL, type Call, type CallDropCounts } from './call.js';
import type { MediaStream } from './media-stream.js';
import { isoFromMicros, secondsBetween, toMicros, type BranchRecord, type CallDropped, type CallRecord, type DtmfRecord, type EndReason, type RtcpSummary, type StreamRecord } from '@callscope/cdr-model';

/**
 * The CDR of a closed call, by the field rules of DESIGN.md's `analyze` contract. Finishes the
 * statistics and DTMF of `streams`: the call's own when it closes, snapshots of them for a live
 * view of an open call (see {@link MediaStream.snapshot}), which must not finish the real ones.
 */
export function buildCallRecord(call: Call, closedBy: EndReason, sensor: string, streams: readonly MediaStream[] = call.streams): CallRecord {
  const { endUs, reason } = call.outcome(closedBy);
  const finalCode = call.finalCode ?? call.challengeCode;
  const finalReason = call.finalCode !== null ? call.finalReason : call.challengeReason;
  // A forked INVITE's callee is the branch that answered (or decided the outcome), not the first address tried.
  const chosen = call.forked ? call.chosen : null;
  const legs = call.legs;
  return {
    type: 'call',
    sensor,
    call_id: call.callId,
    caller: call.caller,
    called: call.called,
    caller_domain: call.callerDomain,
    called_domain: call.calledDomain,
    caller_name: call.callerName,
    caller_ip: call.callerIp,
    caller_port: call.callerPort,
    callee_ip: chosen?.ip ?? call.calleeIp,
    callee_port: chosen?.port ?? call.calleePort,
    transport: call.transport,
    start: isoFromMicros(call.startUs),
    answer: call.answerUs === null ? null : isoFromMicros(call.answerUs),
    end: isoFromMicros(endUs),
    duration: secondsBetween(call.startUs, endUs),
    connect_duration: call.answerUs === null ? null : secondsBetween(call.answerUs, endUs),
    pdd_ms: call.firstProgressUs === null ? null : Math.round(call.firstProgressUs - call.startUs) / 1000,
    last_sip_code: finalCode,
    last_sip_reason: finalReason,
    bye_by: call.byeBy,
    end_reason: reason,
    sip_packets: call.sipPackets,
    vlan: call.vlan,
    caller_user_agent: call.callerUserAgent,
    callee_user_agent: chosen?.userAgent ?? call.calleeUserAgent,
    dtmf: collectDtmf(call, streams),
    sip_responses: call.sipResponses,
    streams: streams.map((s) => buildStreamRecord(s, call.rtcp)),
    x_cid: legs?.xCid ?? null,
    session_id: legs?.sessionUuid == null ? null : { local_uuid: legs.sessionUuid, remote_uuid: legs.sessionRemoteUuid },
    icid: legs?.icid ?? null,
    correlation: legs?.correlation == null ? {} : { ...legs.correlation },
    linked_legs: legs === null ? [] : [...legs.linked],
    branches: call.forked ? branchRecords(call) : [],
    dropped: droppedRecord(call.dropped),
  };
}

/**
 * The branches of a forked call: one per To-tag in order of first response, each with the INVITE
 * and CANCEL sent to its address, then every address the INVITE went to that no tagged response
 * came from (it never answered, or only with 100 Trying).
 */
function branchRecords(call: Call): BranchRecord[] {
  const out: BranchRecord[] = [];
  const answeredFrom = new Set<string>();
  for (const b of call.branches) {
    const d = call.destinations.find((x) => x.ip === b.ip && x.port === b.port);
    if (d !== undefined) answeredFrom.add(`${d.ip} ${d.port}`);
    out.push({
      to_tag: b.toTag,
      ip: b.ip,
      port: b.port,
      invite: d === undefined ? null : isoFromMicros(d.inviteUs),
      provisional: [...b.provisional],
      final_code: b.finalCode,
      final: b.finalUs === null ? null : isoFromMicros(b.finalUs),
      cancel: d?.cancelUs == null ? null : isoFromMicros(d.cancelUs),
      chosen: b === call.chosen,
    });
  }
  for (const d of call.destinations) {
    if (answeredFrom.has(`${d.ip} ${d.port}`) || out.length >= MAX_BRANCHES_PER_CALL) continue;
    out.push({
      to_tag: null,
      ip: d.ip,
      port: d.port,
      invite: isoFromMicros(d.inviteUs),
      provisional: [],
      final_code: null,
      final: null,
      cancel: d.cancelUs === null ? null : isoFromMicros(d.cancelUs),
      chosen: false,
    });
  }
  return out;
}

/** The record's `dropped` object, or null when the call lost nothing inside the sniffer. */
export function droppedRecord(d: CallDropCounts | null): CallDropped | null {
  if (d === null) return null;
  return {
    rtp_streams_over_cap: d.rtpStreamsOverCap,
    rtp_packets_over_cap: d.rtpPacketsOverCap,
    rtp_malformed: d.rtpMalformed,
    rtcp_malformed: d.rtcpMalformed,
    sip_oversize: d.sipOversize,
  };
}

/** SIP INFO digits and every stream's RFC 4733 events, in time order. */
function collectDtmf(call: Call, streams: readonly MediaStream[]): DtmfRecord[] {
  const out = [...call.dtmf];
  for (const s of streams) {
    const d = s.dtmf;
    if (d === null) continue;
    d.finish();
    for (let i = 0; i < d.kept; i++) {
      const slot = d.slot(i);
      out.push({
        digit: dtmfDigit(d.event[slot]!),
        ts: isoFromMicros(toMicros(d.startSec[slot]!, d.startNsec[slot]!)),
        method: 'rfc2833',
        duration_ms: round(d.durationMs[slot]!, 3),
      });
    }
  }
  return out.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
}

/** A finite number rounded to `digits` decimals, or null (NaN: not enough data to rate). */
function round(value: number, digits: number): number | null {
  if (!Number.isFinite(value)) return null;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** A stream's record: Wireshark's figures, ours beyond them, MOS, and the peer's RTCP about it. */
export function buildStreamRecord(s: MediaStream, rtcp: RtcpSessionStats | null): StreamRecord {
  const st = s;
  st.finish();
  const ws = st.wireshark;
  const pt = s.audioPayloadType >= 0 ? s.audioPayloadType : st.payloadType;
  const codecId = pt >= 0 ? s.payloadTypes.codec[pt]! : Codec.Unknown;
  const minMos = Math.min(st.minIntervalMos[0]!, st.minIntervalMos[1]!, st.minIntervalMos[2]!);
  return {
    ssrc: `0x${s.ssrc.toString(16).padStart(8, '0')}`,
    side: s.side,
    src_ip: s.srcIp,
    src_port: s.srcPort,
    dst_ip: s.dstIp,
    dst_port: s.dstPort,
    payload_type: pt,
    codec: codecId === Codec.Unknown ? null : CODEC_NAMES[codecId]!,
    codecs: st.codecs().map((u) => ({
      payload_type: u.pt,
      codec: u.codec === Codec.Unknown ? null : CODEC_NAMES[u.codec]!,
      from: isoFromMicros(toMicros(st.firstSec, st.firstNsec) + u.firstMs * 1000),
    })),
    packets: ws.packets,
    lost: ws.lost,
    lost_pct: ws.expected > 0 ? round((ws.lost / ws.expected) * 100, 3)! : 0,
    seq_errors: ws.sequenceErrors,
    duplicated: st.duplicates,
    reordered: st.reordered,
    first: isoFromMicros(toMicros(st.firstSec, st.firstNsec)),
    last: isoFromMicros(toMicros(st.lastSec, st.lastNsec)),
    jitter_max_ms: round(ws.maxJitterMs, 6)!,
    jitter_mean_ms: round(ws.meanJitterMs, 6)!,
    delta_max_ms: round(ws.maxDeltaMs, 6)!,
    loss_bursts: Array.from(st.lossBursts),
    mos_f1: round(st.mos(JitterBufferIndex.Fixed50), 2),
    mos_f2: round(st.mos(JitterBufferIndex.Fixed200), 2),
    mos_adapt: round(st.mos(JitterBufferIndex.Adaptive500), 2),
    mos_min: round(minMos, 2),
    rtcp: rtcpSummary(rtcp, s.ssrc, pt >= 0 ? s.payloadTypes.clockRate[pt]! : 0),
  };
}

/** What the peer reported about a stream in RTCP receiver reports (RFC 3550 §6.4). */
function rtcpSummary(rtcp: RtcpSessionStats | null, ssrc: number, clockRate: number): RtcpSummary | null {
  if (rtcp === null) return null;
  const i = rtcp.indexOf(ssrc);
  if (i < 0) return null;
  return {
    packets: rtcp.reports[i]!,
    lost: rtcp.cumulativeLost[i]!,
    fraction_lost_max_pct: round(rtcp.fractionLostPercent(i), 2)!,
    jitter_max_ms: clockRate > 0 ? round((rtcp.maxJitter[i]! * 1000) / clockRate, 3)! : 0,
    rtt_max_ms: round(rtcp.maxRttMs[i]!, 3),
  };
}
