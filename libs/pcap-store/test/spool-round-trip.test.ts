import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { decompress as zstdDecompress } from '@cloudpss/zstd';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChunkCompression, MergedCaptureFormat, scanArchive, sensorTag, TAR_BLOCK, SpoolError, SpoolErrorCode, SpoolMode, SpoolWriter, spoolCallName, spoolMinuteDir } from '../src/index.js';
import { callHashOf } from '../src/spool/segment-format.js';
import type { SpoolWriterOptions } from '../src/index.js';
import { loadFrames, retrieve, sameRecords, shift, tempSpool, walk, writeInterleaved } from './spool-fixtures.js';
import type { Frame, TestCall } from './spool-fixtures.js';
import { CaptureParseStatus, LinkType, PCAP_RECORD_HEADER_LENGTH } from '@callscope/pcap-format';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

let base: Frame[] = [];
beforeAll(async () => {
  base = await loadFrames('basic-caller-bye-pcma.pcap');
});

/** Three calls built from the corpus call: shifted in time (with odd ns) and given their own Call-ID. */
function makeCalls(): TestCall[] {
  return [0, 1, 2].map((k) => {
    const frames = shift(base, k * 350 + (k === 2 ? 90_000 : 0), k * 7 + 3);
    const first = frames[0]!;
    return { ref: { callId: `call-${k}@192.0.2.10`, startSec: first.tsSec, startUsec: Math.floor(first.tsNsec / 1000) }, frames };
  });
}

async function spoolCalls(tag: string, options: Partial<SpoolWriterOptions> = {}): Promise<{ dir: string; calls: TestCall[]; writer: SpoolWriter }> {
  const dir = tempSpool(tag);
  dirs.push(dir);
  const writer = new SpoolWriter({ spoolDir: dir, ...options });
  const calls = makeCalls();
  writeInterleaved(writer, calls);
  await Promise.all(calls.map((c) => writer.endCall(c.ref)));
  await writer.close();
  return { dir, calls, writer };
}

/** Member names of every segment under `dir`, listed by GNU tar itself (the format's oracle). */
function tarMembers(dir: string): string[] {
  return walk(dir)
    .filter((f) => f.rel.endsWith('.tar'))
    .flatMap((f) => execFileSync('tar', ['tf', join(dir, f.rel)], { encoding: 'utf8' }).trim().split('\n'));
}

function query(c: TestCall, kinds?: ('sip' | 'rtp')[]) {
  return { callId: c.ref.callId, startSec: c.ref.startSec, startUsec: c.ref.startUsec, ...(kinds === undefined ? {} : { kinds }) };
}

describe('spool round trip (basic-caller-bye-pcma.pcap, 3 interleaved calls)', () => {
  it('the corpus split gives both groups', () => {
    expect(base.filter((f) => f.kind === 'sip').length).toBe(7);
    expect(base.filter((f) => f.kind === 'rtp').length).toBe(812);
  });

  it('stores the calls of a minute in <minute>/seg.0.tar + seg.0.idx (tar members <call>/<sensor>.<group>.<chunk>.<linktype>.pcap) and merges them back exactly, in time order', async () => {
    const { dir, calls, writer } = await spoolCalls('rt');
    const s = writer.stats();
    expect(s.packetsWritten).toBe(3 * base.length);
    expect(Object.values(s.packetsDropped).every((n) => n === 0)).toBe(true);
    expect(s.callsOpen).toBe(0);
    expect(s.filesOpen).toBe(0);
    const minutes = [...new Set(calls.map((c) => spoolMinuteDir(c.ref.startSec)))];
    expect(s.filesCreated).toBe(2 * minutes.length);
    const files = walk(dir).map((f) => f.rel).sort();
    expect(files).toEqual(minutes.flatMap((m) => [`${m}/seg.0.idx`, `${m}/seg.0.tar`]).sort());
    // SIP fits one 64 KiB chunk per call; the 812 RTP packets (~190 kB) fill chunks 0, 1, 2 in order
    const tag = sensorTag('');
    const expected = calls.flatMap((c) => {
      const name = spoolCallName(c.ref.callId, c.ref.startSec, c.ref.startUsec);
      return [`${name}/${tag}.sip.0.1.pcap`, ...[0, 1, 2].map((n) => `${name}/${tag}.rtp.${n}.1.pcap`)];
    });
    expect(tarMembers(dir).sort()).toEqual(expected.sort());
    expect(s.chunksWritten).toBe(12);
    expect(s.bytesWritten).toBe(walk(dir).reduce((a, f) => a + f.size, 0));
    for (const c of calls) {
      const got = await retrieve(dir, query(c));
      expect(got.status).toBe(CaptureParseStatus.End);
      expect(got.summary.format).toBe(MergedCaptureFormat.PCAP);
      expect(got.summary.packets).toBe(base.length);
      expect(got.summary.bytes).toBe(got.bytes.length);
      expect(got.summary.truncated).toEqual([]);
      expect(got.bytes.readUInt32LE(0)).toBe(0xa1b23c4d); // ns magic: the odd ns survive
      expect(sameRecords(got.records, c.frames)).toBeNull();
    }
  });

  it('retrieves SIP only and RTP only', async () => {
    const { dir, calls } = await spoolCalls('kinds');
    const c = calls[1]!;
    const sip = await retrieve(dir, query(c, ['sip']));
    expect(sip.summary.chunks).toBe(1);
    expect(sameRecords(sip.records, c.frames.filter((f) => f.kind === 'sip'))).toBeNull();
    const rtp = await retrieve(dir, query(c, ['rtp']));
    expect(sameRecords(rtp.records, c.frames.filter((f) => f.kind === 'rtp'))).toBeNull();
  });

  it('reports CallNotFound for an unknown call, a wrong start time and a group never stored', async () => {
    const { dir, calls } = await spoolCalls('missing', { mode: SpoolMode.SIP });
    const c = calls[0]!;
    const codeOf = async (q: Parameters<typeof retrieve>[1]): Promise<unknown> => {
      try {
        await retrieve(dir, q);
        return 'no error';
      } catch (err) {
        return err instanceof SpoolError ? err.code : err;
      }
    };
    expect(await codeOf({ ...query(c), callId: 'nope' })).toBe(SpoolErrorCode.CallNotFound);
    expect(await codeOf({ ...query(c), startUsec: (c.ref.startUsec + 1) % 1e6 })).toBe(SpoolErrorCode.CallNotFound);
    expect(await codeOf(query(c, ['rtp']))).toBe(SpoolErrorCode.CallNotFound);
    expect((await retrieve(dir, query(c))).records.length).toBe(7);
  });

  it('sip mode stores SIP only and counts the rest as filtered', async () => {
    const { dir, calls, writer } = await spoolCalls('sipmode', { mode: SpoolMode.SIP });
    expect(writer.stats().packetsFiltered).toBe(3 * 812);
    expect(writer.stats().packetsWritten).toBe(3 * 7);
    expect(tarMembers(dir).every((m) => m.endsWith('.sip.0.1.pcap'))).toBe(true);
    const got = await retrieve(dir, query(calls[2]!));
    expect(sameRecords(got.records, calls[2]!.frames.filter((f) => f.kind === 'sip'))).toBeNull();
  });

  it('rtp_headers mode cuts RTP after the 12-byte RTP header, keeps origLen, keeps SIP whole', async () => {
    const { dir, calls, writer } = await spoolCalls('hdr', { mode: SpoolMode.RTP_HEADERS });
    expect(writer.stats().packetsCut).toBe(3 * 812);
    const c = calls[0]!;
    const got = await retrieve(dir, query(c));
    expect(got.records).toHaveLength(c.frames.length);
    got.records.forEach((r, i) => {
      const f = c.frames[i]!;
      expect(r.origLen).toBe(f.origLen);
      expect(r.tsNsec).toBe(f.tsNsec);
      if (f.kind === 'sip') {
        expect(Buffer.from(r.data).equals(Buffer.from(f.data))).toBe(true);
      } else {
        // Ethernet 14 + IPv4 20 + UDP 8 + RTP 12 (these sipp streams carry no CSRC, no extension)
        expect(r.capLen).toBe(54);
        expect(Buffer.from(r.data).equals(Buffer.from(f.data.subarray(0, 54)))).toBe(true);
      }
    });
  });

  it.each([
    ['gzip', '.pcap.gz', (b: Buffer) => gunzipSync(b)],
    // The library skips the skippable frame with the CRC-32 after the data frame, as zstd -d does.
    ['zstd', '.pcap.zst', (b: Buffer) => Buffer.from(zstdDecompress(b))],
  ] as const)('%s mode writes every chunk as a %s member (a whole pcap once unpacked by the library alone) and reads back the same packets', async (compression, suffix, unpack) => {
    const { dir, calls, writer } = await spoolCalls(compression, { compression, flushBytes: 4096 });
    const files = walk(dir);
    const members = tarMembers(dir);
    expect(members.length).toBe(writer.stats().chunksWritten);
    expect(members.length).toBeGreaterThan(6); // 4 KiB chunks: several per call
    expect(members.every((m) => m.endsWith(suffix))).toBe(true);
    for (const f of files.filter((x) => x.rel.endsWith('.tar'))) {
      for (const e of (await scanArchive(join(dir, f.rel))).entries) {
        const data = readFileSync(join(dir, f.rel)).subarray(e.offset + TAR_BLOCK, e.offset + TAR_BLOCK + e.size);
        expect(unpack(data).readUInt32LE(0)).toBe(0xa1b23c4d); // ns pcap magic
      }
    }
    const plainSize = base.reduce((a, f) => a + 16 + f.data.length, 48);
    for (const c of calls) {
      const got = await retrieve(dir, query(c));
      expect(sameRecords(got.records, c.frames)).toBeNull();
    }
    expect(files.reduce((a, f) => a + f.size, 0)).toBeLessThan(3 * plainSize);
  });

  it.each(['gzip', 'zstd'] as const)('a %s member damaged on disk is skipped with its reason; the call\'s other chunks still come back', async (compression) => {
    const { dir, calls } = await spoolCalls(`damaged-${compression}`, { compression, flushBytes: 4096 });
    const c = calls[0]!;
    const tar = walk(dir).find((f) => f.rel.endsWith('.tar') && f.rel.startsWith(spoolMinuteDir(c.ref.startSec)))!;
    const path = join(dir, tar.rel);
    const name = spoolCallName(c.ref.callId, c.ref.startSec, c.ref.startUsec);
    const victim = (await scanArchive(path)).entries.find((e) => e.group === 'rtp' && e.chunkNo === 1 && e.callLo === callHashOf(name).lo)!;
    const bytes = readFileSync(path);
    // Garbage over the middle of the compressed data (its header, size and index entry intact).
    bytes.fill(0x5a, victim.offset + TAR_BLOCK + 20, victim.offset + TAR_BLOCK + Math.min(victim.size, 400));
    writeFileSync(path, bytes);
    const got = await retrieve(dir, query(c));
    expect(got.status).toBe(CaptureParseStatus.End);
    expect(got.summary.skipped).toEqual([{ path, offset: victim.offset, reason: expect.stringMatching(new RegExp(`^${compression}: `)) }]);
    expect(got.records.length).toBeGreaterThan(0);
    expect(got.records.length).toBeLessThan(c.frames.length);
  });

  // Regression (issue 17): a producer paced on bufferedBytes (the spool bench; a sniffer between
  // capture batches) with many minutes each under a write's worth waited for the flush timer, and
  // gzip compressed each chunk in its own thread-pool job (5,600 packets/s at 10,000 calls). With
  // the timer set to an hour, this test only ends if pressure alone gets the chunks to disk.
  it.each(Object.values(ChunkCompression))('under memory pressure chunks reach the disk without the flush timer (compression %s), every packet read back', async (compression) => {
    const dir = tempSpool(`pressure-${compression}`);
    dirs.push(dir);
    const maxBufferedBytes = 256 * 1024;
    const writer = new SpoolWriter({ spoolDir: dir, compression, flushBytes: 4096, maxBufferedBytes, flushIntervalMs: 3_600_000 });
    // 30 calls, each in its own start minute: no segment ever holds a write's worth (1 MiB)
    const calls: TestCall[] = Array.from({ length: 30 }, (_, k) => {
      const frames = shift(base, k * 60_000, k);
      const first = frames[0]!;
      return { ref: { callId: `pressure-${k}`, startSec: first.tsSec, startUsec: 0 }, frames };
    });
    let paced = 0;
    for (let p = 0; p < base.length; p++) {
      for (const c of calls) {
        const f = c.frames[p]!;
        writer.write(c.ref, f.kind, f.tsSec, f.tsNsec, f.data, f.origLen, f.linkType, f.rtpHeaderEnd);
      }
      await new Promise((resolve) => setImmediate(resolve));
      while (writer.stats().bufferedBytes > maxBufferedBytes / 2) {
        paced++;
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    }
    await Promise.all(calls.map((c) => writer.endCall(c.ref)));
    await writer.close();
    expect(paced).toBeGreaterThan(0); // the cap was reached: the pressure path ran
    const stats = writer.stats();
    expect(Object.values(stats.packetsDropped).reduce((a, b) => a + b, 0)).toBe(0);
    expect(stats.packetsWritten).toBe(calls.length * base.length);
    expect(tarMembers(dir).every((m) => m.endsWith({ none: '.pcap', gzip: '.pcap.gz', zstd: '.pcap.zst' }[compression]))).toBe(true);
    for (const c of calls) expect(sameRecords((await retrieve(dir, query(c))).records, c.frames)).toBeNull();
  });

  it('a call seen on two link types gets a chunk per link type and merges into a pcapng with two interfaces', async () => {
    const sll = await loadFrames('basic-call-linux-sll.pcap');
    expect(sll[0]!.linkType).toBe(LinkType.LinuxSll);
    const dir = tempSpool('mixed');
    dirs.push(dir);
    const writer = new SpoolWriter({ spoolDir: dir });
    const eth = base.filter((f) => f.kind === 'sip');
    // the SLL capture's SIP, moved to just after the Ethernet SIP so the two interleave by time
    const other = shift(sll.filter((f) => f.kind === 'sip'), 0, 0).map((f, i) => ({ ...f, tsSec: eth[i % eth.length]!.tsSec, tsNsec: eth[i % eth.length]!.tsNsec + 1 }));
    const ref = { callId: 'mixed', startSec: eth[0]!.tsSec, startUsec: 0 };
    const call: TestCall = { ref, frames: [...eth, ...other] };
    writeInterleaved(writer, [call]);
    await writer.close();
    expect(new Set(tarMembers(dir).map((m) => m.replace(/^.*\.sip\.\d+\./, '')))).toEqual(new Set(['1.pcap', `${LinkType.LinuxSll}.pcap`]));
    const got = await retrieve(dir, query(call));
    expect(got.summary.format).toBe(MergedCaptureFormat.PCAPNG);
    expect(got.summary.truncated).toEqual([]);
    const want = [...call.frames].sort((a, b) => a.tsSec - b.tsSec || a.tsNsec - b.tsNsec);
    expect(sameRecords(got.records, want)).toBeNull();
    expect(new Set(got.records.map((r) => r.interfaceId))).toEqual(new Set([0, 1]));
    expect(got.records.filter((r) => r.linkType === LinkType.Ethernet)).toHaveLength(eth.length);
  });

  it('never appends to a segment left by an earlier run: the next segment number is opened', async () => {
    const dir = tempSpool('rerun');
    dirs.push(dir);
    const c = makeCalls()[0]!;
    for (let run = 0; run < 2; run++) {
      const writer = new SpoolWriter({ spoolDir: dir });
      const ref = { ...c.ref };
      writeInterleaved(writer, [{ ref, frames: c.frames }]);
      await writer.close();
    }
    const names = walk(dir).map((f) => f.rel.replace(/^.*\//, ''));
    expect(names.sort()).toEqual(['seg.0.idx', 'seg.0.tar', 'seg.1.idx', 'seg.1.tar']);
    const got = await retrieve(dir, query(c));
    expect(got.records).toHaveLength(2 * c.frames.length); // both runs, each file intact
    expect(got.status).toBe(CaptureParseStatus.End);
  });
});

describe('SpoolWriter drops are counted by reason', () => {
  it.each([
    ['frame over 256 KiB', new Uint8Array(262_145), 0, 262_145, 1],
    ['tsNsec = 1e9', new Uint8Array(60), 1_000_000_000, 60, 1],
    ['origLen < captured length', new Uint8Array(60), 0, 59, 1],
    ['link type over 65535', new Uint8Array(60), 0, 60, 70_000],
    ['NaN nanoseconds', new Uint8Array(60), Number.NaN, 60, 1],
  ])('%s -> bad_packet', async (_name, frame, tsNsec, origLen, linkType) => {
    const dir = tempSpool('bad');
    dirs.push(dir);
    const writer = new SpoolWriter({ spoolDir: dir });
    writer.write({ callId: 'x', startSec: 1, startUsec: 0 }, 'sip', 1, tsNsec, frame, origLen, linkType);
    await writer.close();
    expect(writer.stats().packetsDropped.bad_packet).toBe(1);
    expect(writer.stats().packetsWritten).toBe(0);
    expect(walk(dir)).toEqual([]);
  });

  it('after endCall -> call_ended, after close -> closed', async () => {
    const dir = tempSpool('ended');
    dirs.push(dir);
    const writer = new SpoolWriter({ spoolDir: dir });
    const ref = { callId: 'x', startSec: 1_800_000_000, startUsec: 5 };
    const f = base[0]!;
    writer.write(ref, 'sip', f.tsSec, f.tsNsec, f.data, f.origLen, f.linkType);
    await writer.endCall(ref);
    writer.write(ref, 'sip', f.tsSec, f.tsNsec, f.data, f.origLen, f.linkType);
    await writer.close();
    writer.write({ callId: 'y', startSec: 1, startUsec: 0 }, 'rtp', f.tsSec, f.tsNsec, f.data, f.origLen, f.linkType);
    const s = writer.stats();
    expect([s.packetsWritten, s.packetsDropped.call_ended, s.packetsDropped.closed]).toEqual([1, 1, 1]);
  });

  it('past maxBufferedBytes packets are dropped as buffer_full, and exactly the others reach the file', async () => {
    const dir = tempSpool('full');
    dirs.push(dir);
    const writer = new SpoolWriter({ spoolDir: dir, flushBytes: 1024, maxBufferedBytes: 8192 });
    const ref = { callId: 'burst', startSec: base[0]!.tsSec, startUsec: 0 };
    const rtp = base.filter((f) => f.kind === 'rtp');
    for (const f of rtp) writer.write(ref, 'rtp', f.tsSec, f.tsNsec, f.data, f.origLen, f.linkType); // no await: the disk cannot keep up
    expect(writer.stats().bufferedBytes).toBeLessThanOrEqual(8192 + 4096);
    await writer.close();
    const s = writer.stats();
    expect(s.packetsDropped.buffer_full).toBeGreaterThan(0);
    expect(s.packetsWritten + s.packetsDropped.buffer_full).toBe(rtp.length);
    const got = await retrieve(dir, { callId: 'burst', startSec: ref.startSec, startUsec: 0 });
    expect(got.records).toHaveLength(s.packetsWritten);
    expect(got.summary.truncated).toEqual([]);
    expect(s.bufferedBytes).toBe(0);
  });
});

describe('SpoolWriter options are validated once', () => {
  it.each([
    [{ spoolDir: '' }, TypeError],
    [{ spoolDir: '/tmp/x', mode: 'all' as SpoolMode }, RangeError],
    [{ spoolDir: '/tmp/x', flushBytes: 10 }, RangeError],
    [{ spoolDir: '/tmp/x', maxOpenFiles: 0 }, RangeError],
    [{ spoolDir: '/tmp/x', maxOpenFiles: 4, ioConcurrency: 5 }, RangeError],
    [{ spoolDir: '/tmp/x', flushBytes: 65536, maxBufferedBytes: 65536 }, RangeError],
    [{ spoolDir: '/tmp/x', gzipLevel: 0 }, RangeError],
    [{ spoolDir: '/tmp/x', compression: 'lz4' as ChunkCompression }, RangeError],
  ])('%j throws', (options, type) => {
    expect(() => new SpoolWriter(options)).toThrow(type);
  });

  it('an unused writer creates nothing', async () => {
    const dir = join(tempSpool('unused'), 'spool');
    dirs.push(dir);
    const writer = new SpoolWriter({ spoolDir: dir });
    await writer.close();
    expect(existsSync(dir)).toBe(false);
  });
});

describe('SpoolWriter background behaviour', () => {
  it('the timer hands buffers to the disk without any flush() call', async () => {
    const dir = tempSpool('timer');
    dirs.push(dir);
    const writer = new SpoolWriter({ spoolDir: dir, flushIntervalMs: 20 });
    const ref = { callId: 'timer', startSec: base[0]!.tsSec, startUsec: 0 };
    const some = base.slice(0, 30);
    for (const f of some) writer.write(ref, f.kind, f.tsSec, f.tsNsec, f.data, f.origLen, f.linkType);
    expect(writer.stats().packetsWritten).toBe(0); // write() itself never touches the disk
    for (let i = 0; i < 100 && writer.stats().packetsWritten < some.length; i++) await new Promise((r) => setTimeout(r, 10));
    expect(writer.stats().packetsWritten).toBe(some.length);
    const got = await retrieve(dir, { callId: 'timer', startSec: ref.startSec, startUsec: 0 });
    expect(sameRecords(got.records, some)).toBeNull();
    await writer.close();
  });

  it('endCall twice returns the same completion, and the call is closed after it', async () => {
    const dir = tempSpool('twice');
    dirs.push(dir);
    const writer = new SpoolWriter({ spoolDir: dir });
    const ref = { callId: 'twice', startSec: base[0]!.tsSec, startUsec: 0 };
    for (const f of base.slice(0, 10)) writer.write(ref, f.kind, f.tsSec, f.tsNsec, f.data, f.origLen, f.linkType);
    expect(writer.stats().callsOpen).toBe(1);
    expect(writer.openMinuteDirectories()).toEqual(new Set([spoolMinuteDir(ref.startSec)]));
    await Promise.all([writer.endCall(ref), writer.endCall(ref)]);
    await writer.endCall(ref);
    expect(writer.stats().callsOpen).toBe(0);
    // the newest minute keeps its segment open for the next call of the same minute
    expect(writer.stats().filesOpen).toBe(2);
    expect(writer.openMinuteDirectories()).toEqual(new Set([spoolMinuteDir(ref.startSec)]));
    expect((await retrieve(dir, { callId: 'twice', startSec: ref.startSec, startUsec: 0 })).records).toHaveLength(10);
    await writer.close();
    expect(writer.stats().filesOpen).toBe(0);
    expect(writer.openMinuteDirectories().size).toBe(0);
  });

  it('an unwritable spool counts write errors and drops, and never throws into the packet path', async () => {
    const root = tempSpool('unwritable');
    dirs.push(root);
    const blocker = join(root, 'not-a-dir');
    writeFileSync(blocker, 'x'); // the spool root is a regular file: mkdir fails with ENOTDIR/EEXIST
    const logged: string[] = [];
    const writer = new SpoolWriter({ spoolDir: blocker, logger: (level, message) => logged.push(`${level}: ${message}`) });
    const ref = { callId: 'err', startSec: base[0]!.tsSec, startUsec: 0 };
    for (const f of base.slice(0, 50)) writer.write(ref, f.kind, f.tsSec, f.tsNsec, f.data, f.origLen, f.linkType);
    await writer.flush();
    for (const f of base.slice(50, 60)) writer.write(ref, f.kind, f.tsSec, f.tsNsec, f.data, f.origLen, f.linkType);
    await writer.close();
    const s = writer.stats();
    expect(s.writeErrors).toBe(2); // one per segment write: the broken segment is replaced by a new one, which fails too
    expect(s.packetsWritten).toBe(0);
    expect(s.packetsDropped.write_error).toBe(60);
    expect(logged).toHaveLength(2);
    expect(logged[0]).toMatch(/^error: spool segment write failed/);
  });
});

// The spool worker's arena (SpoolWriterInternals): records whose bytes lie in the same ArrayBuffer
// as the chunk blocks are copied with copyWithin, the others with a view; blocks come from the
// arena first and from the writer's own slabs once it is used up. Here the arena holds 6 blocks
// and the calls need hundreds, so both kinds of block and both copies are in every chunk chain,
// and records cross block boundaries. Each call must come back exactly.
const HEAD_BYTES = 64 * 1024;
const BLOCK = 4096;

describe('SpoolWriter with an arena (the spool worker thread)', () => {
  it.each([
    ['every record from the arena', true],
    ['every record from another buffer', false],
  ])('%s: every call back exactly, from arena blocks and slab blocks alike', async (_name, fromArena) => {
    const dir = tempSpool('arena');
    dirs.push(dir);
    const arena = Buffer.allocUnsafeSlow(HEAD_BYTES + 6 * BLOCK);
    const outside = Buffer.allocUnsafeSlow(HEAD_BYTES);
    const writer = new SpoolWriter({ spoolDir: dir, flushBytes: 3 * BLOCK }, { arena: arena.subarray(HEAD_BYTES) });
    const calls: TestCall[] = [0, 1, 2, 3].map((k) => {
      const frames = shift(base, k * 250, k * 11 + 1);
      const first = frames[0]!;
      return { ref: { callId: `arena-${k}@192.0.2.10`, startSec: first.tsSec, startUsec: Math.floor(first.tsNsec / 1000) }, frames };
    });
    const all = calls.flatMap((c) => c.frames.map((f) => ({ c, f })));
    all.sort((a, b) => a.f.tsSec - b.f.tsSec || a.f.tsNsec - b.f.tsNsec);
    // As the worker lays records out in its batch buffer: the pcap record header, then the frame,
    // at varying offsets (any alignment) in the arena's head, or in a buffer of its own.
    const src = fromArena ? arena : outside;
    let at = 0;
    for (const { c, f } of all) {
      const len = PCAP_RECORD_HEADER_LENGTH + f.data.length;
      if (at + len > HEAD_BYTES) at = 0;
      src.writeUInt32LE(f.tsSec, at);
      src.writeUInt32LE(f.tsNsec, at + 4);
      src.writeUInt32LE(f.data.length, at + 8);
      src.writeUInt32LE(f.origLen, at + 12);
      src.set(f.data, at + PCAP_RECORD_HEADER_LENGTH);
      writer.storeRecord(c.ref, f.kind === 'sip' ? 0 : 1, f.tsSec, f.tsNsec, src, at + PCAP_RECORD_HEADER_LENGTH, f.data.length, f.origLen, f.linkType, true);
      at += len + (at % 7) + 1;
    }
    await Promise.all(calls.map((c) => writer.endCall(c.ref)));
    await writer.close();
    const stats = writer.stats();
    expect(stats.packetsWritten).toBe(all.length);
    expect(stats.bytesWritten).toBeGreaterThan(20 * 6 * BLOCK); // far beyond the arena's blocks
    for (const c of calls) {
      const got = await retrieve(dir, { callId: c.ref.callId, startSec: c.ref.startSec, startUsec: c.ref.startUsec });
      expect(sameRecords(got.records, c.frames)).toBeNull();
    }
  });
});
