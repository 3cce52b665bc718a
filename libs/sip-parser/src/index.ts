// Public surface of @callscope/sip-parser: explicit named exports only (STYLE.md).
export { ByteRange, decodeRange, rangeEquals } from './byte-range.js';
export { SipMethod, SIP_METHOD_NAMES, sipMethodFromBytes } from './sip-method.js';
export { SipHeader, SIP_HEADER_NAMES, sipHeaderFromBytes } from './header-name.js';
export { SipUri, parseSipUri } from './sip-uri.js';
export { NameAddr, parseNameAddr } from './name-addr.js';
export { Via, parseVia } from './via.js';
export { SipStatus, SIP_STATUS_NAMES, SIP_MAX_HEADERS, isSipMessageUsable } from './sip-status.js';
export { SipMessage, SipMessageKind, SipCredentials, SipReason } from './sip-message.js';
export { parseSipMessage } from './parse-sip-message.js';
export {
  SessionDescription, SdpMedia, SdpRtpMap, SdpAddress, SdpDirection,
  SDP_MAX_MEDIA, SDP_MAX_RTPMAPS, SDP_MAX_FORMATS,
} from './session-description.js';
export { SdpStatus, SDP_STATUS_COUNT, SDP_STATUS_NAMES } from './sdp-status.js';
export { parseSdp } from './parse-sdp.js';
export { SipFraming, SipFrame, SIP_MAX_HEADER_BYTES, frameSipMessage, isSipStartLine } from './sip-framing.js';
export { SipTcpReassembler, SipTcpReassemblerStats, TcpFlag } from './sip-tcp-reassembler.js';
export type { SipTcpReassemblerOptions, SipTcpMessageSink, SipTcpOversizeSink } from './sip-tcp-reassembler.js';
export {
  WebSocketFrame, WebSocketOpcode, WebSocketStatus, parseWebSocketFrame, unmaskWebSocketPayload,
  webSocketHandshakeLength, takeSipFromWebSocket,
} from './websocket-frame.js';
