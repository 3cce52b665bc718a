import { DecodeStatus, PacketDecoder, Transport, createDecodedPacket, type DecodedPacket } from '@callscope/packet';
import type { PacketRecord } from '@callscope/pcap-format';
import { SipMessage, SipTcpReassembler, TcpFlag, decodeRange, isSipMessageUsable, parseSipMessage } from '@callscope/sip-parser';

/** TCP flag bits as @callscope/packet reports them (RFC 9293 §3.1). */
const TCP_FIN = 0x01;
const TCP_SYN = 0x02;
const TCP_RST = 0x04;

/** Transport a SIP message came over, as the ladder shows it. */
export type SipLadderTransport = 'udp' | 'tcp';

/** Receives each parsed SIP message of the wanted Call-ID with the packet that carried (or completed) it. */
export type SipWalkSink = (msg: SipMessage, packet: DecodedPacket, transport: SipLadderTransport) => void;

/** What the walk skipped, by reason (nothing is dropped silently). */
export interface SipWalkCounters {
  /** Records that did not decode to IP (truncated frames, unknown link types...). */
  notDecoded: number;
  /** IP fragments taken in by the decoder's reassembly (a datagram's last fragment decodes as the datagram). */
  fragments: number;
  /** UDP or reassembled TCP payloads that did not parse as a usable SIP message. */
  notSip: number;
  /** SIP messages of another Call-ID (a TCP segment can carry several calls' messages). */
  otherCallId: number;
}

/**
 * SIP messages out of a call's spooled SIP records, the way the call engine finds them
 * (libs/call-engine packet-pipeline.ts and sip-tcp-streams.ts): frames decoded by
 * @callscope/packet (tunnels, VLANs, IP reassembly), UDP payloads parsed as one message each,
 * TCP framed per direction by @callscope/sip-parser's `SipTcpReassembler` and each message
 * handed on with the segment that completed it. Only messages whose Call-ID is the call's go to
 * the sink. Not reentrant; one walker per read.
 */
export class SipWalker {
  readonly counters: SipWalkCounters = { notDecoded: 0, fragments: 0, notSip: 0, otherCallId: 0 };
  private readonly decoder = new PacketDecoder({});
  private readonly packet = createDecodedPacket();
  private readonly msg = new SipMessage();
  private readonly tcp: SipTcpReassembler<string>;
  private current: DecodedPacket | null = null;
  private lastExpireMs = 0;

  constructor(
    private readonly callId: string,
    private readonly sink: SipWalkSink,
  ) {
    this.tcp = new SipTcpReassembler<string>((_key, buf, off, len) => {
      if (this.current !== null) this.onSip(buf, off, len, this.current, 'tcp');
    });
  }

  /** One spooled record (borrowed for the call). */
  onRecord(rec: PacketRecord): void {
    const p = this.packet;
    const status = this.decoder.decode(rec.data, 0, rec.capLen, rec.linkType, rec.tsSec, rec.tsNsec, p);
    if (status === DecodeStatus.Fragment) {
      this.counters.fragments++;
      return;
    }
    if (status !== DecodeStatus.Ok) {
      this.counters.notDecoded++;
      return;
    }
    if (p.transport === Transport.Udp) this.onSip(p.payload, p.payloadOffset, p.payloadLength, p, 'udp');
    else if (p.transport === Transport.Tcp) this.onTcp(p);
  }

  private onTcp(p: DecodedPacket): void {
    const nowMs = p.tsSec * 1000 + Math.floor(p.tsNsec / 1e6);
    let flags = 0;
    if ((p.tcpFlags & TCP_SYN) !== 0) flags |= TcpFlag.Syn;
    if ((p.tcpFlags & TCP_FIN) !== 0) flags |= TcpFlag.Fin;
    if ((p.tcpFlags & TCP_RST) !== 0) flags |= TcpFlag.Rst;
    this.current = p;
    this.tcp.push(flowKey(p), nowMs, p.tcpSeq, flags, p.payload, p.payloadOffset, p.payloadLength);
    this.current = null;
    if (nowMs - this.lastExpireMs >= 1000) {
      this.lastExpireMs = nowMs;
      this.tcp.expire(nowMs);
    }
  }

  private onSip(buf: Uint8Array, off: number, len: number, p: DecodedPacket, transport: SipLadderTransport): void {
    const msg = this.msg;
    if (!isSipMessageUsable(parseSipMessage(buf, off, len, msg))) {
      this.counters.notSip++;
      return;
    }
    if (decodeRange(msg.buf, msg.callId) !== this.callId) {
      this.counters.otherCallId++;
      return;
    }
    this.sink(msg, p, transport);
  }
}

/** One direction of a TCP connection as a map key (addresses and ports). */
function flowKey(p: DecodedPacket): string {
  return p.ipVersion === 4 ? `${p.src4}:${p.srcPort}>${p.dst4}:${p.dstPort}` : `${p.src6.join('.')}:${p.srcPort}>${p.dst6.join('.')}:${p.dstPort}`;
}
