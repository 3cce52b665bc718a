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
  MIN_PROTOCOL_VERSION,
  NONCE_LENGTH,
  PROTOCOL_VERSION,
  STREAM_ID_LENGTH,
} from './protocol-constants.js';
export { encodeBatchFrameHeader, encodeFrame, type BatchBodyField } from './frame-encoder.js';
export { FrameDecoder, FrameStatus, MalformedReason, createDecodedFrame } from './frame-decoder.js';
export type { DecodedFrame, FrameDecoderOptions, FrameDecoderStats } from './frame-decoder.js';
export { PacketListDecoder, PacketListStatus } from './packet-list-decoder.js';
export type { DecodedPacketList } from './packet-list-decoder.js';
export { AUTH_TRANSCRIPT_LABEL, ChallengeStatus, HelloStatus, authTranscript, checkChallenge, checkHello, negotiateVersion } from './auth-transcript.js';
export { BatchStatus, PacketStatus, checkBatch, checkPacket } from './batch-check.js';
export { AckStatus, SendWindow } from './send-window.js';
export type { SendWindowEntry, SendWindowOptions, SendWindowStats } from './send-window.js';
export { ReceiveStatus, ReceiveWindow } from './receive-window.js';
export type { ReceiveWindowOptions, ReceiveWindowStats } from './receive-window.js';
export {
  FLOW_TABLE_SIZE,
  FlowBlockDecoder,
  FlowBlockEncoder,
  FlowBlockStatus,
  MAX_BLOCK_PACKETS,
  MAX_FLOW_HEADER,
  createFlowLayout,
  parseFlowLayout,
} from './flow-block.js';
export type { FlowBlockEncoderStats, FlowLayout } from './flow-block.js';
export {
  RAW_BATCH_BYTES_PER_SLOT,
  appendRawPacket,
  appendRawPacketSlot,
  createRawBatch,
  detachRawBatch,
  rawBatchDataLength,
  rawBatchFootprint,
  rawPacketData,
  reserveRawBatchBytes,
  resetRawBatch,
  reserveRawBatchPackets,
  trimRawBatch,
} from './raw-batch.js';
export type { RawBatch } from './raw-batch.js';
