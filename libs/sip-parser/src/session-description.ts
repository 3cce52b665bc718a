import { ByteRange, decodeRange } from './byte-range.js';
import { SDP_STATUS_COUNT } from './sdp-status.js';

/** Media direction attributes (RFC 8866 §6.7; RFC 3264 §5.1 for the session-level default). */
export const SdpDirection = {
  /** `a=sendrecv`, also the default when no direction attribute is given. */
  SendRecv: 1,
  /** `a=sendonly`: the sender of this SDP only sends (e.g. puts the peer on hold). */
  SendOnly: 2,
  /** `a=recvonly`: the sender of this SDP only receives. */
  RecvOnly: 3,
  /** `a=inactive`: no media either way. */
  Inactive: 4,
} as const;
/** A value of {@link SdpDirection}. */
export type SdpDirection = (typeof SdpDirection)[keyof typeof SdpDirection];

/** Caps that bound the work and memory per SDP; entries beyond them are counted, not stored. */
export const SDP_MAX_MEDIA = 8;
/** Most rtpmap/fmtp entries kept per media section. */
export const SDP_MAX_RTPMAPS = 16;
/** Most payload types kept from one m= line's format list. */
export const SDP_MAX_FORMATS = 32;

/**
 * An address from `c=`, `o=` or `a=rtcp` (RFC 8866 §5.7): `nettype addrtype connection-address`.
 * The text is always a range; `family` says whether it also parsed as a numeric address.
 */
export class SdpAddress {
  /** Address type token (`IP4`, `IP6`). */
  readonly addressType = new ByteRange();
  /** Address text (a multicast `/ttl/count` suffix excluded). */
  readonly address = new ByteRange();
  /** 4 or 6 when the address parsed as numeric IPv4/IPv6; 0 for an FQDN or an unparsable value. */
  family: 0 | 4 | 6 = 0;
  /** IPv4 as an unsigned 32-bit number when `family === 4`. */
  ipv4 = 0;
  /** IPv6 as eight 16-bit groups when `family === 6`. */
  readonly ipv6 = new Uint16Array(8);

  /** True when the line was present. */
  get present(): boolean {
    return this.address.present;
  }

  /** Marks the address absent. */
  clear(): void {
    this.addressType.clear();
    this.address.clear();
    this.family = 0;
    this.ipv4 = 0;
    this.ipv6.fill(0);
  }

  /** Copies another address (same buffer). */
  copyFrom(other: SdpAddress): void {
    this.addressType.copyFrom(other.addressType);
    this.address.copyFrom(other.address);
    this.family = other.family;
    this.ipv4 = other.ipv4;
    this.ipv6.set(other.ipv6);
  }
}

/** `a=rtpmap:<pt> <encoding>/<clock>[/<channels>]` (RFC 8866 §6.6) and its `a=fmtp` (§6.15). */
export class SdpRtpMap {
  /** Payload type 0..127. */
  payloadType = -1;
  /** Encoding name (absent when only an fmtp was given for a static payload type). */
  readonly encoding = new ByteRange();
  /** Clock rate in Hz, -1 when absent. */
  clockRate = -1;
  /** Channels (audio), 1 when not given (RFC 8866 §6.6). */
  channels = 1;
  /** Format parameters from the matching `a=fmtp`. */
  readonly fmtp = new ByteRange();

  /** Resets the entry. */
  clear(): void {
    this.payloadType = -1;
    this.encoding.clear();
    this.clockRate = -1;
    this.channels = 1;
    this.fmtp.clear();
  }
}

/** One `m=` section (RFC 8866 §5.14) with the attributes a call follower needs. */
export class SdpMedia {
  /** Media type token (`audio`, `video`, `application`, ...). */
  readonly media = new ByteRange();
  /** Port; 0 means the stream is disabled/rejected (RFC 3264 §5.1, §6). */
  port = 0;
  /** Number of ports (`m=audio 49170/2`), 1 when not given. */
  portCount = 1;
  /** Transport protocol (`RTP/AVP`, `RTP/SAVP`, `UDP/TLS/RTP/SAVPF`, ...). */
  readonly proto = new ByteRange();
  /** The whole format list text. */
  readonly formats = new ByteRange();
  /** Number of numeric payload types stored in `payloadTypes`. */
  payloadTypeCount = 0;
  /** Numeric formats (RTP payload types) in m= order. */
  readonly payloadTypes = new Int16Array(SDP_MAX_FORMATS);
  /** Media-level `c=`, or the session-level one copied when the section has none. */
  readonly connection = new SdpAddress();
  /** Effective direction: the media attribute, else the session-level one, else sendrecv. */
  direction: SdpDirection = SdpDirection.SendRecv;
  /** True when the direction came from a media-level attribute. */
  directionExplicit = false;
  /** rtpmap/fmtp entries; only the first `rtpmapCount` are valid. */
  readonly rtpmaps: readonly SdpRtpMap[] = Array.from({ length: SDP_MAX_RTPMAPS }, () => new SdpRtpMap());
  /** Valid entries in `rtpmaps`. */
  rtpmapCount = 0;
  /** `a=ptime` in ms, -1 when absent. */
  ptime = -1;
  /** `a=rtcp` port (RFC 3605), -1 when absent (RTCP then uses port+1). */
  rtcpPort = -1;
  /** `a=rtcp` address when given. */
  readonly rtcpAddress = new SdpAddress();
  /** `a=rtcp-mux` (RFC 5761 §5.1.1). */
  rtcpMux = false;
  /** Payload type of `telephone-event` (RFC 4733 §7), -1 when not offered. */
  telephoneEventPayloadType = -1;

  /** True for port 0: a disabled stream (RFC 3264 §6). */
  get disabled(): boolean {
    return this.port === 0;
  }

  /** The rtpmap entry for a payload type, or undefined. */
  rtpmap(payloadType: number): SdpRtpMap | undefined {
    for (let i = 0; i < this.rtpmapCount; i++) {
      const r = this.rtpmaps[i]!;
      if (r.payloadType === payloadType) return r;
    }
    return undefined;
  }

  /** Resets the section. */
  clear(): void {
    this.media.clear();
    this.port = 0;
    this.portCount = 1;
    this.proto.clear();
    this.formats.clear();
    this.payloadTypeCount = 0;
    this.connection.clear();
    this.direction = SdpDirection.SendRecv;
    this.directionExplicit = false;
    this.rtpmapCount = 0;
    this.ptime = -1;
    this.rtcpPort = -1;
    this.rtcpAddress.clear();
    this.rtcpMux = false;
    this.telephoneEventPayloadType = -1;
  }
}

/**
 * A parsed SDP body (RFC 8866, formerly RFC 4566): caller-owned and reused. Ranges refer to `buf`.
 */
export class SessionDescription {
  /** Buffer of the last parse. */
  buf: Uint8Array = new Uint8Array(0);
  /** `o=` username. */
  readonly originUsername = new ByteRange();
  /** `o=` sess-id. */
  readonly sessionId = new ByteRange();
  /** `o=` sess-version. */
  readonly sessionVersion = new ByteRange();
  /** `o=` unicast-address. */
  readonly originAddress = new SdpAddress();
  /** Session-level `c=`. */
  readonly connection = new SdpAddress();
  /** Session-level direction (sendrecv when not given). */
  direction: SdpDirection = SdpDirection.SendRecv;
  /** Media sections; only the first `mediaCount` are valid. */
  readonly media: readonly SdpMedia[] = Array.from({ length: SDP_MAX_MEDIA }, () => new SdpMedia());
  /** Valid entries in `media`. */
  mediaCount = 0;
  /** m= sections beyond {@link SDP_MAX_MEDIA} (not stored). */
  mediaDropped = 0;
  /**
   * m= sections skipped because their `m=` line or their media-level `c=` line was invalid (the
   * reason is counted in {@link SessionDescription.rejectedLines}); the other sections are kept.
   */
  mediaRejected = 0;
  /**
   * Lines rejected, indexed by {@link SdpStatus} reason (`BadLine`, `BadOrigin`, `BadConnection`,
   * `BadMedia`, `NulByte`); the rest of the body is still parsed. Lines of a rejected or over-cap
   * media section after its `m=` line are skipped unread, not counted here.
   */
  readonly rejectedLines = new Uint32Array(SDP_STATUS_COUNT);
  /** rtpmap/fmtp entries beyond {@link SDP_MAX_RTPMAPS} or formats beyond {@link SDP_MAX_FORMATS} (not stored). */
  rtpmapDropped = 0;
  /** Known attributes whose value did not parse (ignored, not fatal). */
  malformedAttributes = 0;

  /** Resets every field. */
  reset(buf: Uint8Array): void {
    this.buf = buf;
    this.originUsername.clear();
    this.sessionId.clear();
    this.sessionVersion.clear();
    this.originAddress.clear();
    this.connection.clear();
    this.direction = SdpDirection.SendRecv;
    this.mediaCount = 0;
    this.mediaDropped = 0;
    this.mediaRejected = 0;
    this.rejectedLines.fill(0);
    this.rtpmapDropped = 0;
    this.malformedAttributes = 0;
  }

  /** Decodes a range of this description (allocates; only for kept values). */
  text(range: ByteRange): string {
    return decodeRange(this.buf, range);
  }
}
