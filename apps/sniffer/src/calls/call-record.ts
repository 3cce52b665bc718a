import type { CallRecord, EndReason, StreamRecord } from '@callscope/cdr-schema';
import type { Call } from './call.js';
import type { MediaStream } from './media-stream.js';
import { isoFromMicros, secondsBetween } from './time.js';

/** The CDR of a closed call, by the field rules of DESIGN.md's `analyze` contract. */
export function buildCallRecord(call: Call, closedBy: EndReason, sensor: string): CallRecord {
  const { endUs, reason } = call.outcome(closedBy);
  const finalCode = call.finalCode ?? call.challengeCode;
  const finalReason = call.finalCode !== null ? call.finalReason : call.challengeReason;
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
    callee_ip: call.calleeIp,
    callee_port: call.calleePort,
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
    callee_user_agent: call.calleeUserAgent,
    dtmf: call.dtmf,
    sip_responses: call.sipResponses,
    streams: call.streams.map(buildStreamRecord),
  };
}

/** A stream's record: identity and counts (quality figures come from @callscope/rtp). */
export function buildStreamRecord(s: MediaStream): StreamRecord {
  const codec = s.payloads.find((p) => p.pt === s.payloadType)?.codec ?? null;
  return {
    ssrc: `0x${s.ssrc.toString(16).padStart(8, '0')}`,
    side: s.side,
    src_ip: s.srcIp,
    src_port: s.srcPort,
    dst_ip: s.dstIp,
    dst_port: s.dstPort,
    payload_type: s.payloadType,
    codec,
    packets: s.packets,
    lost: 0,
    lost_pct: 0,
    seq_errors: 0,
    duplicated: 0,
    reordered: 0,
    first: isoFromMicros(s.firstUs),
    last: isoFromMicros(s.lastUs),
    jitter_max_ms: 0,
    jitter_mean_ms: 0,
    delta_max_ms: 0,
    loss_bursts: new Array<number>(10).fill(0),
    mos_f1: null,
    mos_f2: null,
    mos_adapt: null,
    mos_min: null,
    rtcp: null,
  };
}
