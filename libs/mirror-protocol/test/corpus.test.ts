// Real captures through the whole mirror pipeline as the apps will run it: pcap packets ->
// PacketList -> deflate/brotli (node:zlib, as mirror-sender does) -> PacketBatch -> frames ->
// arbitrary TCP chunking -> FrameDecoder -> inflate -> PacketListDecoder. Checked against the
// capinfos values in the corpus truth files (an independent oracle).
import { brotliCompressSync, brotliDecompressSync, deflateSync, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseCapinfosTime, readCorpusRecords, readTruth } from '@callscope/testing';
import {
  Compression,
  FrameStatus,
  FrameDecoder,
  PacketListStatus,
  PacketList,
  PacketListDecoder,
  BatchStatus,
  PacketStatus,
  checkBatch,
  checkPacket,
  createDecodedFrame,
  encodeFrame,
  type DecodedPacketList,
  type Packet,
} from '../src/index.js';

const CODECS = [
  { compression: Compression.COMPRESSION_NONE, name: 'none' },
  { compression: Compression.COMPRESSION_DEFLATE, name: 'deflate', pack: deflateSync, unpack: inflateSync },
  { compression: Compression.COMPRESSION_BROTLI, name: 'brotli', pack: brotliCompressSync, unpack: brotliDecompressSync },
] as const;

describe.each(['ipv6-call.pcap', 'basic-call-linux-sll.pcap'])('real capture %s', (file) => {
  const capture: { packets: Packet[] } = {
    packets: readCorpusRecords(file).map((r) => ({ linkType: r.linkType, tsSec: r.tsSec, tsNsec: r.tsNsec, origLen: r.origLen, data: r.data })),
  };
  const truth = readTruth(file);

  it('the pcap reader agrees with capinfos', () => {
    expect(capture.packets).toHaveLength(truth.capture.packets);
    expect(capture.packets.every((p) => checkPacket(p) === PacketStatus.Ok)).toBe(true);
  });

  it.each(CODECS)('survives batching, $name, framing and 1..1500-byte TCP chunks byte for byte', (codec) => {
    const frames: Uint8Array[] = [];
    const BATCH = 50;
    for (let i = 0, seq = 1; i < capture.packets.length; i += BATCH, seq++) {
      const packets = capture.packets.slice(i, i + BATCH);
      const batch =
        'pack' in codec
          ? { sequence: seq, compression: codec.compression, compressedPackets: new Uint8Array(codec.pack(PacketList.encode({ packets }).finish())) }
          : { sequence: seq, packets };
      frames.push(encodeFrame({ batch }));
    }
    const stream = Buffer.concat(frames);
    const decoder = new FrameDecoder({ initialCapacity: 1024 });
    const lists = new PacketListDecoder();
    const out = createDecodedFrame();
    const listOut: DecodedPacketList = { list: null };
    const received: Packet[] = [];
    let expectedSeq = 1;
    // Deterministic pseudo-random chunk sizes, like a real socket.
    let state = 12345;
    for (let at = 0; at < stream.length; ) {
      state = (state * 1103515245 + 12345) >>> 0;
      const size = 1 + (state % 1500);
      decoder.push(stream.subarray(at, at + size));
      at += size;
      for (let status = decoder.next(out); status !== FrameStatus.NeedMore; status = decoder.next(out)) {
        expect(status).toBe(FrameStatus.Frame);
        const batch = out.envelope!.batch!;
        expect(checkBatch(batch)).toBe(BatchStatus.Ok);
        expect(batch.sequence).toBe(expectedSeq++);
        let packets = batch.packets ?? [];
        if ('unpack' in codec) {
          expect(lists.decode(new Uint8Array(codec.unpack(batch.compressedPackets!)), listOut)).toBe(PacketListStatus.Ok);
          packets = listOut.list!.packets!;
        }
        // Bytes alias the decoder's buffer until the next push: copy what is kept (README invariant).
        for (const p of packets) received.push({ ...p, data: new Uint8Array(p.data!) });
      }
    }
    expect(decoder.pendingBytes).toBe(0);
    expect(received).toHaveLength(truth.capture.packets);
    for (let i = 0; i < received.length; i++) {
      const [got, want] = [received[i]!, capture.packets[i]!];
      expect([got.linkType, got.tsSec, got.tsNsec, got.origLen]).toEqual([want.linkType, want.tsSec, want.tsNsec, want.origLen]);
      expect(Buffer.from(got.data!).equals(Buffer.from(want.data!))).toBe(true);
    }
    const first = received[0]!;
    const last = received[received.length - 1]!;
    expect({ sec: first.tsSec, nsec: first.tsNsec }).toEqual(parseCapinfosTime(truth.capture.first_packet_time));
    expect({ sec: last.tsSec, nsec: last.tsNsec }).toEqual(parseCapinfosTime(truth.capture.last_packet_time));
  });
});

describe('PacketListDecoder on bad payloads', () => {
  it('reports a corrupt decompressed payload as Malformed, counted, without throwing', () => {
    const lists = new PacketListDecoder();
    const out: DecodedPacketList = { list: null };
    expect(lists.decode(Uint8Array.of(0x0a, 0x10, 0x08), out)).toBe(PacketListStatus.Malformed);
    expect(out.list).toBeNull();
    expect(lists.stats.malformed).toBe(1);
  });
});
