/**
 * Wire constants of the mirror stream. See README.md for the frame diagram.
 */

/**
 * The highest protocol version this library speaks (`Hello.protocolVersion` offers it,
 * `Challenge.protocolVersion` answers min(the receiver's, the offer)). 2: batches carry a flow block.
 * 3: the same flow block; a zstd batch may carry it as two zstd frames back to back (its header
 * sections, then its payload section at a faster level), a receiver of version 2 refuses the second.
 */
export const PROTOCOL_VERSION = 3;

/** The oldest protocol version this library still speaks (1: batches carry a PacketList). */
export const MIN_PROTOCOL_VERSION = 1;

/** Length in bytes of `Hello.clientNonce` and `Challenge.serverNonce`. */
export const NONCE_LENGTH = 32;

/** Length in bytes of `Hello.streamId` (random, once per sender process). */
export const STREAM_ID_LENGTH = 16;

/** Length in bytes of `Auth.mac` (HMAC-SHA256, RFC 2104 / RFC 6234). */
export const MAC_LENGTH = 32;

/** Bytes of the big-endian length prefix in front of every envelope. */
export const FRAME_HEADER_LENGTH = 4;

/**
 * Default bound on an envelope's length (16 MiB). A length prefix above the bound means a hostile
 * or desynchronised peer, so the decoder refuses it before buffering a byte of it.
 */
export const DEFAULT_MAX_FRAME_LENGTH = 16 * 1024 * 1024;

/** Longest accepted `Hello.sensorId`, in UTF-8 bytes (it becomes a DB key and a file name). */
export const MAX_SENSOR_ID_LENGTH = 64;

/** Longest accepted `Hello.sensorName`, in UTF-8 bytes. */
export const MAX_SENSOR_NAME_LENGTH = 256;
