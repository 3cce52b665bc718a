/**
 * @callscope/mirror-protocol — the pure wire format of the mirror stream (mirror-sender ->
 * sniffer): protobuf messages, `u32 length | Envelope` framing, the handshake transcript, and the
 * send/receive windows behind acknowledgement and resend. No sockets, no zlib, no crypto: the apps
 * do I/O, compression and HMAC. See README.md.
 */
export {
  Ack,
  Auth,
  AuthFailure,
  AuthResult,
  Challenge,
  Compression,
  Envelope,
  Hello,
  Heartbeat,
  Packet,
  PacketBatch,
  PacketList,
} from './messages.js';
export type { EnvelopeBody, EnvelopeInit } from './messages.js';
export {
  DEFAULT_MAX_FRAME_LENGTH,
  FRAME_HEADER_LENGTH,
  MAC_LENGTH,
  MAX_SENSOR_ID_LENGTH,
  MAX_SENSOR_NAME_LENGTH,
  NONCE_LENGTH,
  PROTOCOL_VERSION,
} from './protocol-constants.js';
export { encodeFrame } from './frame-encoder.js';
export { FRAME_STATUS, FrameDecoder, MALFORMED_REASON, createDecodedFrame } from './frame-decoder.js';
export type { DecodedFrame, FrameDecoderOptions, FrameDecoderStats, FrameStatus, MalformedReason } from './frame-decoder.js';
export { PACKET_LIST_STATUS, PacketListDecoder } from './packet-list-decoder.js';
export type { DecodedPacketList, PacketListStatus } from './packet-list-decoder.js';
export { AUTH_TRANSCRIPT_LABEL, CHALLENGE_STATUS, HELLO_STATUS, authTranscript, checkChallenge, checkHello } from './auth-transcript.js';
export type { ChallengeStatus, HelloStatus } from './auth-transcript.js';
export { BATCH_STATUS, PACKET_STATUS, checkBatch, checkPacket } from './batch-check.js';
export type { BatchStatus, PacketStatus } from './batch-check.js';
export { ACK_STATUS, SendWindow } from './send-window.js';
export type { AckStatus, SendWindowEntry, SendWindowOptions, SendWindowStats } from './send-window.js';
export { RECEIVE_STATUS, ReceiveWindow } from './receive-window.js';
export type { ReceiveStatus, ReceiveWindowOptions, ReceiveWindowStats } from './receive-window.js';
