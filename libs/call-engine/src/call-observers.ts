/**
 * The engine's two doors out. The engine decides which call every packet belongs to and when a
 * call is over; what happens to the result (jsonl, MySQL, a pcap spool, a live view) is the app's,
 * wired through these interfaces. Nothing here knows of files or databases.
 *
 * @packageDocumentation
 */
import type { CallRecord, RegisterRecord } from '@callscope/cdr-model';
import type { DecodedPacket } from '@callscope/packet';
import type { PacketRecord } from '@callscope/pcap-format';

/**
 * A call as its CDR names it: Call-ID and start (the first INVITE), split as pcap timestamps are.
 * The same pair finds the call's packets again (the spool's key).
 */
export interface CallKey {
  readonly callId: string;
  readonly startSec: number;
  /** Microseconds within `startSec`, 0..999999. */
  readonly startUsec: number;
}

/** What a kept packet carried for its call. RTCP travels beside RTP on the media addresses. */
export type CallPacketKind = 'sip' | 'rtp' | 'rtcp';

/** Where finished records go (the CDR sink, a jsonl printer, a test's array). */
export interface RecordObserver {
  onCall(record: CallRecord): void;
  onRegister(record: RegisterRecord): void;
}

/**
 * Keeps each call's packets (the sniffer's spool). The packet record's bytes are only borrowed
 * for the duration of a call: copy what is kept beyond it.
 *
 * Two kinds of packet are recognised only later, so the engine hands them over to be held: IP
 * fragments (their call is known once the datagram is reassembled) and RTP that arrives before
 * the SDP naming its address (known once a call announces that address). The keeper holds them
 * (bounded, counted) and releases them to the call through the matching method.
 */
export interface CallPacketObserver {
  /**
   * One packet of `call`. `packet` is the decoded form of `record` (addresses, payload offset,
   * tunnel layers, HEP timestamp) for keepers that store a derived frame; it is reused after the
   * call returns. `callNumber` names the call among the engine's open calls: dense from 0, the
   * same for every packet of the call, and given to another call only after
   * {@link onCallEnd}(`call`, `callNumber`). A keeper holds its per-call state in an array by it,
   * so that the packet path need not read the key object (a cache miss per packet at 10,000
   * open calls).
   */
  onPacket(call: CallKey, kind: CallPacketKind, record: PacketRecord, packet: DecodedPacket, callNumber: number): void;
  /** A fragment whose datagram is still incomplete. */
  holdFragment(record: PacketRecord, packet: DecodedPacket): void;
  /** `packet` was reassembled and belongs to `call`: its held fragments are the call's too. */
  releaseFragments(call: CallKey, kind: CallPacketKind, packet: DecodedPacket): void;
  /** RTP-looking UDP that matched no call yet: maybe early media of a call being set up. */
  holdUnmatched(record: PacketRecord, packet: DecodedPacket): void;
  /**
   * `call` learned a media address (SDP offer, answer, re-INVITE): held packets to or from
   * `endpointKey` (the engine's ip:port key, `ipv4PortKey`/`ipv6PortKey` of @callscope/packet)
   * are the call's. `nowSec` is packet time, for forgetting stale held packets.
   */
  claimEarlyMedia(call: CallKey, endpointKey: number | string, nowSec: number): void;
  /**
   * `call` is closed and its record was handed to {@link RecordObserver.onCall}. Its `callNumber`
   * (see {@link onPacket}) names the next call opened after this returns.
   */
  onCallEnd(call: CallKey, callNumber: number): void;
}
