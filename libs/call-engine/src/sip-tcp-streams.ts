import type { DecodedPacket } from '@callscope/packet';
import { SipFrame, SipFraming, SipTcpReassembler, TcpFlag, frameSipMessage, type SipTcpReassemblerStats } from '@callscope/sip-parser';

/** TCP flag bits as the decoder reports them (RFC 9293 §3.1). */
const TCP_FIN = 0x01;
const TCP_SYN = 0x02;
const TCP_RST = 0x04;

/** Receives bytes of SIP with the packet they came with; `buf` is only borrowed for the call. */
export type SipTcpBytesSink = (buf: Uint8Array, offset: number, length: number, pkt: DecodedPacket) => void;

/**
 * SIP over TCP: one byte stream per direction of a connection, framed into whole messages by
 * @callscope/sip-parser's reassembler. Each message is handed on with the packet that completed
 * it (addresses, ports, time) — every message a push emits belongs to that packet's flow.
 *
 * A message too large to reassemble (see SipTcpReassemblerStats.oversizeMessages) is not
 * delivered; its head (start line and headers as far as buffered, so usually its Call-ID) goes
 * to the optional `onOversize` callback with the packet that revealed it, so that the caller can
 * mark the call.
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
  /**
   * Messages (and oversize heads) completed by the reorder timeout inside the periodic expire,
   * when no packet of their flow is at hand to hand them on with: dropped, counted here. Their
   * bytes are also in the reassembler's `messages`/`oversizeMessages`.
   */
  droppedWithoutPacket = 0;

  /**
   * @param onMessage receives each complete SIP message with the packet that completed it.
   * @param onOversize receives the head of each message too large to reassemble, with the packet
   *   that revealed it (optional; such messages are counted in {@link stats} either way).
   */
  constructor(
    private readonly onMessage: SipTcpBytesSink,
    private readonly onOversize?: SipTcpBytesSink,
  ) {
    this.reassembler = new SipTcpReassembler<string>(
      (_key, buf, offset, length) => {
        if (this.current !== null) this.onMessage(buf, offset, length, this.current);
        else this.droppedWithoutPacket++;
      },
      {},
      (_key, buf, offset, length) => {
        if (this.current === null) this.droppedWithoutPacket++;
        else this.onOversize?.(buf, offset, length, this.current);
      },
    );
  }

  /** The reassembler's counters (messages, gaps, discarded bytes, oversizeMessages, flows...). */
  get stats(): SipTcpReassemblerStats {
    return this.reassembler.stats;
  }

  onSegment(p: DecodedPacket): void {
    const nowMs = p.tsSec * 1000 + Math.floor(p.tsNsec / 1e6);
    const key = flowKey(p);
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

/**
 * Map key of one direction of a TCP connection: addresses and ports as 16-bit code units of a
 * short string (6 units for IPv4, 18 for IPv6; the lengths keep the families apart), built
 * once per segment without formatting addresses as text.
 */
function flowKey(p: DecodedPacket): string {
  if (p.ipVersion === 4) {
    const s = p.src4;
    const d = p.dst4;
    return String.fromCharCode(s >>> 16, s & 0xffff, p.srcPort, d >>> 16, d & 0xffff, p.dstPort);
  }
  const s = p.src6;
  const d = p.dst6;
  return String.fromCharCode(
    s[0]! >>> 16, s[0]! & 0xffff, s[1]! >>> 16, s[1]! & 0xffff, s[2]! >>> 16, s[2]! & 0xffff, s[3]! >>> 16, s[3]! & 0xffff, p.srcPort,
    d[0]! >>> 16, d[0]! & 0xffff, d[1]! >>> 16, d[1]! & 0xffff, d[2]! >>> 16, d[2]! & 0xffff, d[3]! >>> 16, d[3]! & 0xffff, p.dstPort,
  );
}
