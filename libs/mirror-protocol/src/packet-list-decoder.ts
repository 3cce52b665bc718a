import { createNumberReader } from './number-reader.js';
import { PacketList } from './messages.js';

/** Outcome of {@link PacketListDecoder.decode}. */
export const PacketListStatus = {
  Ok: 0,
  /** The (decompressed) bytes are not a PacketList protobuf. */
  Malformed: 1,
} as const;
/** A value of {@link PacketListStatus}. */
export type PacketListStatus = (typeof PacketListStatus)[keyof typeof PacketListStatus];

/** Caller-owned result of {@link PacketListDecoder.decode}. */
export interface DecodedPacketList {
  /** The decoded list when Ok, else null. Its `data` fields alias the input bytes. */
  list: PacketList | null;
}

/**
 * Decodes the decompressed `PacketBatch.compressedPackets` payload (a serialized PacketList) with
 * one reused reader, uint64 fields as numbers, and never throws on wire input.
 */
export class PacketListDecoder {
  /** Counters. */
  readonly stats = { lists: 0, malformed: 0 };
  private readonly reader = createNumberReader(new Uint8Array(0));

  /** Decodes `bytes` into `out.list`. */
  decode(bytes: Uint8Array, out: DecodedPacketList): PacketListStatus {
    const reader = this.reader;
    reader.buf = bytes;
    reader.pos = 0;
    reader.len = bytes.length;
    try {
      out.list = PacketList.decode(reader);
    } catch {
      // protobufjs signals bad input by throwing; counted and reported as a status.
      out.list = null;
      this.stats.malformed++;
      return PacketListStatus.Malformed;
    }
    this.stats.lists++;
    return PacketListStatus.Ok;
  }
}
