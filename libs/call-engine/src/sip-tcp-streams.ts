import { formatIp, type DecodedPacket } from '@callscope/packet';
import { SipFrame, SipFraming, SipTcpReassembler, TcpFlag, frameSipMessage } from '@callscope/sip-parser';

/** TCP flag bits as the decoder reports them (RFC 9293 §3.1). */
const TCP_FIN = 0x01;
const TCP_SYN = 0x02;
const TCP_RST = 0x04;

/**
 * SIP over TCP: one byte stream per direction of a connection, framed into whole messages by
 * @callscope/sip-parser's reassembler. Each message is handed on with the packet that completed
 * it (addresses, ports, time) — every message a push emits belongs to that packet's flow.
 *
 * TCP received as HEP ({@link DecodedPacket.fromHep}) has no sequence numbers: HEP senders
 * (Kamailio, OpenSIPS, heplify) send whole messages, so such a payload goes through
 * {@link SipTcpStreams.onWholeMessages} instead, with no stream state.
 */
export class SipTcpStreams {
  private readonly reassembler: SipTcpReassembler<string>;
  private current: DecodedPacket | null = null;
  private lastExpireMs = 0;
  private readonly frame = new SipFrame();

  constructor(private readonly onMessage: (buf: Uint8Array, offset: number, length: number, pkt: DecodedPacket) => void) {
    this.reassembler = new SipTcpReassembler<string>((_key, buf, offset, length) => {
      if (this.current !== null) this.onMessage(buf, offset, length, this.current);
    });
  }

  get stats() {
    return this.reassembler.stats;
  }

  onSegment(p: DecodedPacket): void {
    const nowMs = p.tsSec * 1000 + Math.floor(p.tsNsec / 1e6);
    const key = `${formatIp(p.ipVersion, p.src4, p.src6)}:${p.srcPort}>${formatIp(p.ipVersion, p.dst4, p.dst6)}:${p.dstPort}`;
    let flags = 0;
    if ((p.tcpFlags & TCP_SYN) !== 0) flags |= TcpFlag.Syn;
    if ((p.tcpFlags & TCP_FIN) !== 0) flags |= TcpFlag.Fin;
    if ((p.tcpFlags & TCP_RST) !== 0) flags |= TcpFlag.Rst;
    this.current = p;
    this.reassembler.push(key, nowMs, p.tcpSeq, flags, p.payload, p.payloadOffset, p.payloadLength);
    this.current = null;
    if (nowMs - this.lastExpireMs >= 1000) {
      this.lastExpireMs = nowMs;
      this.reassembler.expire(nowMs);
    }
  }

  /**
   * A payload that holds whole SIP messages (HEP): each message framed by Content-Length
   * (RFC 3261 §18.3) goes on with `p`, in order, without sequence-based reassembly. Bytes that do
   * not frame as a complete message (not SIP, or cut short) go on as they are, so the SIP parser
   * rejects and counts them; leading CRLF keepalives are skipped.
   */
  onWholeMessages(p: DecodedPacket): void {
    const buf = p.payload;
    const end = p.payloadOffset + p.payloadLength;
    const frame = this.frame;
    let off = p.payloadOffset;
    while (off < end) {
      const framing = frameSipMessage(buf, off, end - off, frame);
      if (framing === SipFraming.Complete || framing === SipFraming.Multiple) {
        this.onMessage(buf, frame.offset, frame.length, p);
        off = frame.offset + frame.length;
      } else {
        if (frame.offset < end) this.onMessage(buf, frame.offset, end - frame.offset, p);
        return;
      }
    }
  }
}
