/**
 * Friendly names for the generated protobuf static code (`generated/mirror.pb.js`, from
 * `proto/mirror.proto`). Each export is both the runtime class/enum and its type, so callers write
 * `Envelope.encode(...)` and `const e: Envelope` without reaching into the generated namespace.
 *
 * Decode received bytes with `FrameDecoder` / `PacketListDecoder`, not with the static
 * `decode` of these classes: protobufjs' own reader yields uint64 fields as `Long` objects although
 * the generated types say `number`; the decoders use a reader that yields numbers.
 */
import { callscope } from './generated/mirror.pb.js';

const v1 = callscope.mirror.v1;

/** Every framed message: a `oneof body` of the messages below (`envelope.body` names the one set). */
export const Envelope = v1.Envelope;
/** A decoded {@link Envelope}. */
export type Envelope = callscope.mirror.v1.Envelope;
/** Plain-object shape accepted by `encode` for an {@link Envelope}. */
export type EnvelopeInit = callscope.mirror.v1.Envelope.$Properties;

/** Client -> server, first message: version, sensor id/name, clock, client nonce, resume point. */
export const Hello = v1.Hello;
/** Plain-object shape of a {@link Hello}. */
export type Hello = callscope.mirror.v1.Hello.$Properties;

/** Server -> client: server nonce, clock, accepted protocol version. */
export const Challenge = v1.Challenge;
/** Plain-object shape of a {@link Challenge}. */
export type Challenge = callscope.mirror.v1.Challenge.$Properties;

/** Client -> server: HMAC-SHA256 over {@link authTranscript}. */
export const Auth = v1.Auth;
/** Plain-object shape of an {@link Auth}. */
export type Auth = callscope.mirror.v1.Auth.$Properties;

/** Server -> client: handshake outcome, failure reason, already-acked sequence. */
export const AuthResult = v1.AuthResult;
/** Plain-object shape of an {@link AuthResult}. */
export type AuthResult = callscope.mirror.v1.AuthResult.$Properties;

/** One captured packet: link type, timestamp (s + ns), original length, bytes. */
export const Packet = v1.Packet;
/** Plain-object shape of a {@link Packet}. */
export type Packet = callscope.mirror.v1.Packet.$Properties;

/** What `PacketBatch.compressedPackets` holds once decompressed. */
export const PacketList = v1.PacketList;
/** Plain-object shape of a {@link PacketList}. */
export type PacketList = callscope.mirror.v1.PacketList.$Properties;

/** Client -> server: packets under one sequence number, raw or compressed. */
export const PacketBatch = v1.PacketBatch;
/** Plain-object shape of a {@link PacketBatch}. */
export type PacketBatch = callscope.mirror.v1.PacketBatch.$Properties;

/** Server -> client: cumulative acknowledgement (highest contiguous sequence). */
export const Ack = v1.Ack;
/** Plain-object shape of an {@link Ack}. */
export type Ack = callscope.mirror.v1.Ack.$Properties;

/** Either direction: keep-alive carrying the sender's clock. */
export const Heartbeat = v1.Heartbeat;
/** Plain-object shape of a {@link Heartbeat}. */
export type Heartbeat = callscope.mirror.v1.Heartbeat.$Properties;

/** Compression of a batch's packet list: NONE, DEFLATE (RFC 1950) or BROTLI (RFC 7932). */
export const Compression = v1.Compression;
/** A {@link Compression} value. */
export type Compression = callscope.mirror.v1.Compression;

/** Why the server refused a handshake. */
export const AuthFailure = v1.AuthFailure;
/** An {@link AuthFailure} value. */
export type AuthFailure = callscope.mirror.v1.AuthFailure;

/** Name of the message an {@link Envelope} carries (`envelope.body`). */
export type EnvelopeBody = NonNullable<Envelope['body']>;
