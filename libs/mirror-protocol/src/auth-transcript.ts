import type { Challenge, Hello } from './messages.js';
import { MAX_SENSOR_ID_LENGTH, MAX_SENSOR_NAME_LENGTH, MIN_PROTOCOL_VERSION, NONCE_LENGTH, PROTOCOL_VERSION, STREAM_ID_LENGTH } from './protocol-constants.js';

/**
 * Domain-separation label at the start of every transcript, so a MAC computed for this protocol
 * (and this version of the transcript layout) can never be replayed as a MAC of anything else.
 */
export const AUTH_TRANSCRIPT_LABEL = 'callscope-mirror-auth-v1';

const utf8 = new TextEncoder();

/**
 * The exact bytes the client MACs with the sensor's shared secret:
 * `Auth.mac = HMAC-SHA256(secret, authTranscript(hello, challenge))` (RFC 2104, RFC 6234).
 * The app computes the MAC with node:crypto and compares with `timingSafeEqual`.
 *
 * Layout (all integers big-endian; `str` = u32 length + UTF-8 bytes; `bin` = u32 length + bytes):
 * ```
 * str  "callscope-mirror-auth-v1"
 * u32  hello.protocolVersion
 * str  hello.sensorId
 * str  hello.sensorName
 * u64  hello.clockSec      u32 hello.clockNsec
 * bin  hello.clientNonce
 * u64  hello.nextSequence
 * bin  hello.streamId
 * u32  challenge.protocolVersion
 * u64  challenge.clockSec  u32 challenge.clockNsec
 * bin  challenge.serverNonce
 * ```
 * Every variable-length field is length-prefixed so no two different (hello, challenge) pairs
 * share a transcript. Both nonces are covered, so a recorded Auth cannot be replayed on another
 * connection; every Hello field is covered, so a man in the middle cannot alter the sensor
 * identity, clock or resume point. Missing fields count as their proto3 defaults (0, empty).
 *
 * Runs once per connection, so it allocates freely.
 *
 * @returns a fresh array with the transcript.
 */
export function authTranscript(hello: Hello, challenge: Challenge): Uint8Array {
  const label = utf8.encode(AUTH_TRANSCRIPT_LABEL);
  const sensorId = utf8.encode(hello.sensorId ?? '');
  const sensorName = utf8.encode(hello.sensorName ?? '');
  const clientNonce = hello.clientNonce ?? new Uint8Array(0);
  const serverNonce = challenge.serverNonce ?? new Uint8Array(0);
  const streamId = hello.streamId ?? new Uint8Array(0);
  const size =
    4 + label.length + 4 + 4 + sensorId.length + 4 + sensorName.length + 8 + 4 + 4 + clientNonce.length + 8 +
    4 + streamId.length + 4 + 8 + 4 + 4 + serverNonce.length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  const u32 = (v: number): void => {
    view.setUint32(at, v >>> 0, false);
    at += 4;
  };
  const u64 = (v: number): void => {
    view.setBigUint64(at, BigInt.asUintN(64, BigInt(Math.trunc(v))), false);
    at += 8;
  };
  const bin = (b: Uint8Array): void => {
    u32(b.length);
    out.set(b, at);
    at += b.length;
  };
  bin(label);
  u32(hello.protocolVersion ?? 0);
  bin(sensorId);
  bin(sensorName);
  u64(hello.clockSec ?? 0);
  u32(hello.clockNsec ?? 0);
  bin(clientNonce);
  u64(hello.nextSequence ?? 0);
  bin(streamId);
  u32(challenge.protocolVersion ?? 0);
  u64(challenge.clockSec ?? 0);
  u32(challenge.clockNsec ?? 0);
  bin(serverNonce);
  return out;
}

/** Outcome of {@link checkHello}, by rejection reason. */
export const HelloStatus = {
  Ok: 0,
  /** `protocolVersion` is 0 (absent) or below the oldest version this library speaks. */
  UnsupportedVersion: 1,
  /** `clientNonce` is not exactly {@link NONCE_LENGTH} bytes. */
  BadNonce: 2,
  /** `sensorId` empty, longer than {@link MAX_SENSOR_ID_LENGTH} bytes, or with control characters. */
  BadSensorId: 3,
  /** `sensorName` longer than {@link MAX_SENSOR_NAME_LENGTH} bytes. */
  BadSensorName: 4,
  /** `clockNsec` is 1e9 or more. */
  BadClock: 5,
  /** `streamId` is not exactly {@link STREAM_ID_LENGTH} bytes. */
  BadStreamId: 6,
} as const;
/** A value of {@link HelloStatus}. */
export type HelloStatus = (typeof HelloStatus)[keyof typeof HelloStatus];

// Control characters (C0, DEL) would corrupt logs and file names derived from the sensor id.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/**
 * Validates a received Hello before the server answers it (it is wire input from an as yet
 * unauthenticated peer). A newer client version is accepted: the server answers with the version it
 * speaks in `Challenge.protocolVersion`.
 */
export function checkHello(hello: Hello): HelloStatus {
  const version = hello.protocolVersion ?? 0;
  if (version < MIN_PROTOCOL_VERSION) return HelloStatus.UnsupportedVersion;
  if (hello.clientNonce?.length !== NONCE_LENGTH) return HelloStatus.BadNonce;
  const sensorId = hello.sensorId ?? '';
  if (sensorId.length === 0 || utf8.encode(sensorId).length > MAX_SENSOR_ID_LENGTH || CONTROL_CHARS.test(sensorId)) {
    return HelloStatus.BadSensorId;
  }
  if (utf8.encode(hello.sensorName ?? '').length > MAX_SENSOR_NAME_LENGTH) return HelloStatus.BadSensorName;
  if ((hello.clockNsec ?? 0) >= 1e9) return HelloStatus.BadClock;
  if (hello.streamId?.length !== STREAM_ID_LENGTH) return HelloStatus.BadStreamId;
  return HelloStatus.Ok;
}

/**
 * The version of a connection whose Hello offered `offered` (checked by {@link checkHello}): the
 * highest both ends speak, `min(ours, offered)`; `ours` defaults to {@link PROTOCOL_VERSION}.
 */
export function negotiateVersion(offered: number, ours: number = PROTOCOL_VERSION): number {
  return Math.min(ours, offered);
}

/** Outcome of {@link checkChallenge}. */
export const ChallengeStatus = {
  Ok: 0,
  /** The server chose a version this client does not speak (0, or above {@link PROTOCOL_VERSION}). */
  UnsupportedVersion: 1,
  /** `serverNonce` is not exactly {@link NONCE_LENGTH} bytes. */
  BadNonce: 2,
  /** `clockNsec` is 1e9 or more. */
  BadClock: 3,
} as const;
/** A value of {@link ChallengeStatus}. */
export type ChallengeStatus = (typeof ChallengeStatus)[keyof typeof ChallengeStatus];

/** Validates a received Challenge on the client before it MACs the transcript. */
export function checkChallenge(challenge: Challenge): ChallengeStatus {
  const version = challenge.protocolVersion ?? 0;
  if (version < MIN_PROTOCOL_VERSION || version > PROTOCOL_VERSION) return ChallengeStatus.UnsupportedVersion;
  if (challenge.serverNonce?.length !== NONCE_LENGTH) return ChallengeStatus.BadNonce;
  if ((challenge.clockNsec ?? 0) >= 1e9) return ChallengeStatus.BadClock;
  return ChallengeStatus.Ok;
}
