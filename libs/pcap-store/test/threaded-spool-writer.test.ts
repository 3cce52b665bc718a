/**
 * ThreadedSpoolWriter: the spool writer on a real worker thread (its script bundled by esbuild from
 * test/spool-worker-entry.ts), fed through the shared ring. Its archives are compared with the
 * frames written and with what the same calls give through SpoolWriter on this thread.
 */
import { readdirSync, rmSync } from 'node:fs';
import { getPriority } from 'node:os';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fc, test as propTest } from '@fast-check/vitest';
import { ChunkCompression, SpoolDropReason, SpoolMode, SpoolWriter, ThreadedSpoolWriter, spoolMinuteDir } from '../src/index.js';
import type { SpoolCallRef, SpoolWriterOptions, SpoolWriterStats } from '../src/index.js';
import { loadFrames, retrieve, sameRecords, shift, tempSpool, walk, writeInterleaved } from './spool-fixtures.js';
import type { Frame, TestCall } from './spool-fixtures.js';
import { failingWorkerScript, removeSpoolWorkerScript, spoolWorkerScript } from './spool-worker-script.js';
// The ring's layout: not part of the package's surface.
import { MIN_BATCH_BYTES, PACKET_FRAME_OFFSET, recordBytes } from '../src/spool/spool-ring.js';
import { MAX_CAPTURE_LENGTH } from '@callscope/pcap-format';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  removeSpoolWorkerScript();
});

let base: Frame[] = [];
let script: URL;
beforeAll(async () => {
  base = await loadFrames('basic-caller-bye-pcma.pcap');
  script = await spoolWorkerScript();
}, 60_000);

function makeCalls(n: number, prefix = 'call'): TestCall[] {
  return Array.from({ length: n }, (_, k) => {
    const frames = shift(base, k * 350 + (k % 3 === 2 ? 90_000 : 0), k * 7 + 3);
    const first = frames[0]!;
    return { ref: { callId: `${prefix}-${k}@192.0.2.10`, startSec: first.tsSec, startUsec: Math.floor(first.tsNsec / 1000) }, frames };
  });
}

function spoolDir(tag: string): string {
  const d = tempSpool(tag);
  dirs.push(d);
  return d;
}

const query = (c: TestCall) => ({ callId: c.ref.callId, startSec: c.ref.startSec, startUsec: c.ref.startUsec });

/** Counters that must agree between the two writers (sizes of open files and memory differ by design). */
const comparable = (s: SpoolWriterStats) => ({
  packetsWritten: s.packetsWritten,
  bytesWritten: s.bytesWritten,
  packetsDropped: s.packetsDropped,
  packetsFiltered: s.packetsFiltered,
  packetsCut: s.packetsCut,
  filesCreated: s.filesCreated,
  chunksWritten: s.chunksWritten,
  callsOpen: s.callsOpen,
  writeErrors: s.writeErrors,
});

async function viaBoth(tag: string, calls: () => TestCall[], options: Partial<SpoolWriterOptions> = {}) {
  const inline = { dir: spoolDir(`${tag}-inline`), calls: calls() };
  const threaded = { dir: spoolDir(`${tag}-thread`), calls: calls() };
  const w1 = new SpoolWriter({ spoolDir: inline.dir, ...options });
  writeInterleaved(w1, inline.calls);
  await Promise.all(inline.calls.map((c) => w1.endCall(c.ref)));
  await w1.close();
  const w2 = new ThreadedSpoolWriter({ spoolDir: threaded.dir, ...options }, script);
  writeInterleaved(w2, threaded.calls);
  await Promise.all(threaded.calls.map((c) => w2.endCall(c.ref)));
  await w2.close();
  return { inline, threaded, s1: w1.stats(), s2: w2.stats() };
}

describe('ThreadedSpoolWriter', () => {
  it('writes what SpoolWriter writes: same archives, same counters, every call back exactly', async () => {
    const { inline, threaded, s1, s2 } = await viaBoth('same', () => makeCalls(5));
    expect(comparable(s2)).toEqual(comparable(s1));
    expect(s2.packetsWritten).toBe(5 * base.length);
    expect(walk(threaded.dir).sort((a, b) => a.rel.localeCompare(b.rel))).toEqual(walk(inline.dir).sort((a, b) => a.rel.localeCompare(b.rel)));
    for (const c of threaded.calls) {
      const got = await retrieve(threaded.dir, query(c));
      expect(sameRecords(got.records, c.frames)).toBeNull();
    }
  });

  it.runIf(process.platform === 'linux')("reports its own thread's CPU seconds (final after close); SpoolWriter, on the caller's thread, none", async () => {
    const dir = spoolDir('cpu');
    const w = new ThreadedSpoolWriter({ spoolDir: dir }, script);
    expect(w.writerThreadCpuSeconds()).toBeNull(); // nothing reported yet
    const calls = makeCalls(20);
    writeInterleaved(w, calls);
    await Promise.all(calls.map((c) => w.endCall(c.ref)));
    await w.close();
    const cpu = w.writerThreadCpuSeconds();
    // Starting a Node environment and writing 20 calls costs the thread tens of milliseconds at
    // least; per thread, it is a part of the process's total.
    expect(cpu).toBeGreaterThan(0);
    const used = process.cpuUsage();
    expect(cpu!).toBeLessThanOrEqual((used.user + used.system) / 1e6 + 0.02);
    expect(new SpoolWriter({ spoolDir: spoolDir('cpu-inline') }).writerThreadCpuSeconds()).toBeNull();
  });

  it.each([SpoolMode.SIP, SpoolMode.RTP_HEADERS])('mode %s: the same filter, cut and counters as SpoolWriter', async (mode) => {
    const { inline, threaded, s1, s2 } = await viaBoth(`mode-${mode}`, () => makeCalls(3), { mode });
    expect(comparable(s2)).toEqual(comparable(s1));
    if (mode === SpoolMode.SIP) expect(s2.packetsFiltered).toBe(3 * base.filter((f) => f.kind === 'rtp').length);
    else expect(s2.packetsCut).toBeGreaterThan(0);
    for (let i = 0; i < 3; i++) {
      const a = await retrieve(inline.dir, query(inline.calls[i]!));
      const b = await retrieve(threaded.dir, query(threaded.calls[i]!));
      expect(b.bytes.equals(a.bytes)).toBe(true);
    }
  });

  it.each(Object.values(ChunkCompression))('frames larger than a chunk block (4 KiB), up to 65,535 bytes, span blocks and come back exactly through both writers (compression %s)', async (compression) => {
    // Chunks are chains of 4 KiB blocks: a record that does not fit the rest of a block continues
    // in the next ones (its header too, when assembled on this thread). Random bytes, sizes that
    // land records on every offset of a block boundary; some larger than flushBytes (a chunk of one).
    const rnd = fc.sample(fc.integer({ min: 0, max: 255 }), { seed: 17, numRuns: 70_000 });
    const sizes = [1, 60, 4_000, 4_070, 4_080, 4_096, 9_000, 12_289, 65_535, 300, 8_191, 20_000];
    const calls = (): TestCall[] =>
      [0, 1].map((k) => {
        let r = k * 1_000;
        const frames: Frame[] = sizes.map((size, i) => {
          const data = new Uint8Array(size);
          for (let j = 0; j < size; j++) data[j] = rnd[(r++ + j * 31) % rnd.length]!;
          return { kind: i % 4 === 0 ? 'sip' : 'rtp', tsSec: base[0]!.tsSec + i, tsNsec: 1_000 * i + k, data, origLen: size + (i % 2), linkType: 1, rtpHeaderEnd: 0 };
        });
        return { ref: { callId: `jumbo-${k}@192.0.2.10`, startSec: frames[0]!.tsSec, startUsec: 0 }, frames };
      });
    const { inline, threaded, s1, s2 } = await viaBoth(`jumbo-${compression}`, calls, { compression, flushBytes: 16 * 1024 });
    expect(comparable(s2)).toEqual(comparable(s1));
    expect(s2.packetsWritten).toBe(2 * sizes.length);
    expect(walk(threaded.dir).sort((a, b) => a.rel.localeCompare(b.rel))).toEqual(walk(inline.dir).sort((a, b) => a.rel.localeCompare(b.rel)));
    for (const run of [inline, threaded]) {
      for (const c of run.calls) {
        const got = await retrieve(run.dir, query(c));
        expect(sameRecords(got.records, [...c.frames].sort((a, b) => a.tsSec - b.tsSec))).toBeNull();
      }
    }
  });

  it('endCall resolves once the call is on disk (retrievable before close); later packets of it count as call_ended', async () => {
    const dir = spoolDir('end');
    const w = new ThreadedSpoolWriter({ spoolDir: dir }, script);
    const [c] = makeCalls(1);
    writeInterleaved(w, [c!]);
    await w.endCall(c!.ref);
    const got = await retrieve(dir, query(c!));
    expect(sameRecords(got.records, c!.frames)).toBeNull();
    const f = c!.frames[0]!;
    w.write(c!.ref, f.kind, f.tsSec, f.tsNsec, f.data, f.origLen, f.linkType);
    await w.close();
    expect(w.stats().packetsDropped[SpoolDropReason.CALL_ENDED]).toBe(1);
    expect(w.stats().callsOpen).toBe(0);
  });

  it('a late packet of an ended call never lands in the call that reuses its slot', async () => {
    const dir = spoolDir('slot');
    const w = new ThreadedSpoolWriter({ spoolDir: dir }, script);
    const [a, b] = makeCalls(2);
    writeInterleaved(w, [a!]);
    await w.endCall(a!.ref);
    writeInterleaved(w, [b!]);
    // a's slot was free when b opened: b has it now. a's late packets must be refused, not given to b.
    expect(Math.abs(b!.ref.spoolState as number)).toBe(Math.abs(a!.ref.spoolState as number));
    for (const f of a!.frames.slice(0, 10)) w.write(a!.ref, f.kind, f.tsSec, f.tsNsec, f.data, f.origLen, f.linkType);
    await w.endCall(b!.ref);
    await w.close();
    expect(w.stats().packetsDropped[SpoolDropReason.CALL_ENDED]).toBe(10);
    expect(sameRecords((await retrieve(dir, query(b!))).records, b!.frames)).toBeNull();
    expect(sameRecords((await retrieve(dir, query(a!))).records, a!.frames)).toBeNull();
  });

  it('validates like SpoolWriter: bad packets counted, nothing reaches the ring', async () => {
    const w = new ThreadedSpoolWriter({ spoolDir: spoolDir('bad') }, script);
    const ref: SpoolCallRef = { callId: 'x@y', startSec: 1_700_000_000, startUsec: 0 };
    const frame = new Uint8Array(60);
    w.write(ref, 'rtp', -1, 0, frame, 60, 1);
    w.write(ref, 'rtp', 1, 1e9, frame, 60, 1);
    w.write(ref, 'rtp', 1, 0, frame, 59, 1);
    w.write(ref, 'rtp', 1, 0, frame, 60, 70_000);
    w.write(ref, 'rtp', 1, 0, new Uint8Array(300_000), 300_000, 1);
    expect(ref.spoolState).toBeUndefined();
    await w.close();
    expect(w.stats().packetsDropped[SpoolDropReason.BAD_PACKET]).toBe(5);
    w.write(ref, 'rtp', 1, 0, frame, 60, 1);
    expect(w.stats().packetsDropped[SpoolDropReason.CLOSED]).toBe(1);
  });

  it('feeds retention: bytes per minute sum to bytesWritten; minutes of open calls are reported at once', async () => {
    const dir = spoolDir('ret');
    const perMinute = new Map<string, number>();
    const w = new ThreadedSpoolWriter({ spoolDir: dir, onBytesWritten: (m, b) => perMinute.set(m, (perMinute.get(m) ?? 0) + b) }, script);
    const calls = makeCalls(3);
    writeInterleaved(w, calls);
    for (const c of calls) expect(w.openMinuteDirectories().has(spoolMinuteDir(c.ref.startSec))).toBe(true);
    await Promise.all(calls.map((c) => w.endCall(c.ref)));
    await w.close();
    const total = [...perMinute.values()].reduce((a, b) => a + b, 0);
    expect(total).toBe(w.stats().bytesWritten);
    expect(total).toBe(walk(dir).reduce((a, f) => a + f.size, 0));
    expect(w.openMinuteDirectories().size).toBe(0);
  });

  it('a producer paced on bufferedBytes (as analyze is) loses nothing through a small ring', async () => {
    const dir = spoolDir('paced');
    const w = new ThreadedSpoolWriter({ spoolDir: dir, ringBytes: 4 * 1024 * 1024 }, script);
    const calls = makeCalls(60, 'paced');
    const all = calls.flatMap((c) => c.frames.map((f) => ({ c, f })));
    all.sort((x, y) => x.f.tsSec - y.f.tsSec || x.f.tsNsec - y.f.tsNsec);
    for (const { c, f } of all) {
      w.write(c.ref, f.kind, f.tsSec, f.tsNsec, f.data, f.origLen, f.linkType);
      if (w.bufferedBytes > w.maxBufferedBytes / 2) await w.relieve();
    }
    await Promise.all(calls.map((c) => w.endCall(c.ref)));
    await w.close();
    const s = w.stats();
    expect(Object.values(s.packetsDropped).every((n) => n === 0)).toBe(true);
    expect(s.packetsWritten).toBe(all.length);
    for (const c of calls.filter((_, i) => i % 7 === 0)) expect(sameRecords((await retrieve(dir, query(c))).records, c.frames)).toBeNull();
  });

  // Live capture does not wait: whatever the ring cannot take is counted, exactly, and what it took
  // reaches the disk in order (each call's pcap is a subsequence of its frames, nothing invented).
  propTest.prop([fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 3 })], { numRuns: 4 })('unpaced bursts: written + buffer_full = sent; each call back as an ordered subsequence', async (nCalls, rounds) => {
    const dir = spoolDir('burst');
    const w = new ThreadedSpoolWriter({ spoolDir: dir, ringBytes: 4 * 1024 * 1024 }, script);
    const calls = makeCalls(nCalls * 10, `burst${nCalls}-${rounds}`);
    let sent = 0;
    for (let r = 0; r < rounds; r++) {
      // The corpus call ×10×nCalls ≈ 0.4-2.4 MB per round, written in one synchronous burst.
      for (const c of calls) {
        for (const f of c.frames) {
          w.write(c.ref, f.kind, f.tsSec + 100 * r, f.tsNsec, f.data, f.origLen, f.linkType);
          sent++;
        }
      }
    }
    await Promise.all(calls.map((c) => w.endCall(c.ref)));
    await w.close();
    const s = w.stats();
    expect(s.packetsWritten + s.packetsDropped[SpoolDropReason.BUFFER_FULL]).toBe(sent);
    expect(s.packetsDropped[SpoolDropReason.BUFFER_FULL] + s.packetsDropped[SpoolDropReason.CALL_ENDED]).toBe(sent - s.packetsWritten);
    for (const c of calls.slice(0, 3)) {
      const got = await retrieve(dir, query(c));
      // Rounds 100 s apart: retrieval's time order is the order sent.
      const sentFrames = Array.from({ length: rounds }, (_, r) => c.frames.map((f) => ({ ...f, tsSec: f.tsSec + 100 * r }))).flat();
      // ordered subsequence of what was sent for this call
      let j = 0;
      for (const rec of got.records) {
        while (j < sentFrames.length && !(sentFrames[j]!.tsSec === rec.tsSec && sentFrames[j]!.tsNsec === rec.tsNsec && Buffer.from(sentFrames[j]!.data).equals(Buffer.from(rec.data)))) j++;
        expect(j).toBeLessThan(sentFrames.length);
        j++;
      }
    }
  });

  it.each([MIN_BATCH_BYTES, MIN_BATCH_BYTES + 8 * 37])('batches of %i bytes cut inside records, and a flush among the packets: every packet written once, every call back exactly', async (batchBytes) => {
    // The worker copies at most batchBytes of the ring per batch and parses whole records: the one
    // the copy cuts is taken again, whole, by the next batch, as are the records after a flush.
    // Lost or doubled records show here (MIN_BATCH_BYTES: the largest record must still fit one).
    expect(recordBytes(PACKET_FRAME_OFFSET + 7, MAX_CAPTURE_LENGTH)).toBeLessThanOrEqual(MIN_BATCH_BYTES);
    const dir = spoolDir(`backlog-${batchBytes}`);
    const w = new ThreadedSpoolWriter({ spoolDir: dir, batchBytes }, script);
    const calls = makeCalls(40, `backlog${batchBytes}`);
    let sent = 0;
    const flushes: Promise<void>[] = [];
    for (const c of calls) {
      for (const f of c.frames) {
        w.write(c.ref, f.kind, f.tsSec, f.tsNsec, f.data, f.origLen, f.linkType);
        sent++;
      }
      if (sent % 3 === 0) flushes.push(w.flush());
    }
    await Promise.all(flushes);
    await Promise.all(calls.map((c) => w.endCall(c.ref)));
    await w.close();
    const s = w.stats();
    expect(Object.values(s.packetsDropped).every((n) => n === 0)).toBe(true);
    expect(s.packetsWritten).toBe(sent);
    for (const c of calls) expect(sameRecords((await retrieve(dir, query(c))).records, c.frames)).toBeNull();
  });

  it('a burst far larger than the ring, unpaced: the excess is counted as buffer_full, the rest written', async () => {
    const w = new ThreadedSpoolWriter({ spoolDir: spoolDir('flood'), ringBytes: 4 * 1024 * 1024 }, script);
    const calls = makeCalls(200, 'flood');
    let sent = 0;
    for (const c of calls) for (const f of c.frames) {
      w.write(c.ref, f.kind, f.tsSec, f.tsNsec, f.data, f.origLen, f.linkType);
      sent++;
    }
    await Promise.all(calls.map((c) => w.endCall(c.ref)));
    await w.close();
    const s = w.stats();
    // ~40 MB written in one synchronous loop into 4 MiB: the worker cannot have taken it all.
    expect(s.packetsDropped[SpoolDropReason.BUFFER_FULL]).toBeGreaterThan(0);
    expect(s.packetsWritten + s.packetsDropped[SpoolDropReason.BUFFER_FULL]).toBe(sent);
  });

  it('a worker that dies: logged once, its packets counted as write_error, promises resolve, no throw', async () => {
    const logs: string[] = [];
    const w = new ThreadedSpoolWriter({ spoolDir: spoolDir('dead'), logger: (level, msg) => logs.push(`${level}: ${msg}`) }, failingWorkerScript());
    const [c] = makeCalls(1);
    writeInterleaved(w, [c!]);
    await w.endCall(c!.ref);
    await w.flush();
    await w.close();
    const s = w.stats();
    expect(s.packetsWritten).toBe(0);
    expect(s.packetsDropped[SpoolDropReason.WRITE_ERROR]).toBe(c!.frames.length);
    expect(s.writeErrors).toBe(1);
    expect(logs.filter((l) => l.startsWith('error: spool writer thread failed'))).toHaveLength(1);
  });

  it('rejects a batch size under MIN_BATCH_BYTES or not a multiple of 8', () => {
    for (const batchBytes of [MIN_BATCH_BYTES - 8, MIN_BATCH_BYTES + 4, 0, Number.NaN]) {
      expect(() => new ThreadedSpoolWriter({ spoolDir: spoolDir('badbatch'), batchBytes }, script)).toThrow(RangeError);
    }
  });

  it.runIf(process.platform === 'linux')('writerNice lowers the writer thread alone, for as long as it runs; writes are unchanged', async () => {
    // Nice values of this process's threads: getpriority() takes a thread id on Linux, the same
    // call the worker makes for itself with 0.
    const nices = (): number[] =>
      readdirSync('/proc/self/task').flatMap((tid) => {
        try {
          return [getPriority(Number(tid))];
        } catch {
          return []; // a thread that ended meanwhile
        }
      });
    const own = (): number => getPriority(0);
    const before = own();
    // Above the process's own value: a thread may always lower its priority, not raise it.
    const nice = Math.min(before + 3, 19);
    if (nice === before) return; // already as nice as it gets: nothing to observe
    const atNice = (): number => nices().filter((n) => n === nice).length;
    expect(atNice()).toBe(0);
    const dir = spoolDir('nice');
    const w = new ThreadedSpoolWriter({ spoolDir: dir, writerNice: nice }, script);
    const calls = makeCalls(3);
    writeInterleaved(w, calls);
    // A call on disk: the worker has started and run its first batches.
    await w.endCall(calls[0]!.ref);
    expect(atNice()).toBe(1);
    expect(own()).toBe(before);
    await Promise.all(calls.map((c) => w.endCall(c.ref)));
    await w.close();
    for (const c of calls) expect(sameRecords((await retrieve(dir, query(c))).records, c.frames)).toBeNull();
    // The thread ends shortly after its last message.
    await vi.waitFor(() => {
      expect(atNice()).toBe(0);
    }, { timeout: 10_000, interval: 20 });
  });

  it('rejects a writerNice outside 0..19 or not an integer', () => {
    for (const writerNice of [-1, 20, 1.5, Number.NaN]) {
      expect(() => new ThreadedSpoolWriter({ spoolDir: spoolDir('badnice'), writerNice }, script)).toThrow(RangeError);
    }
  });

  it('rejects a ring size that is not a power of two in range', () => {
    expect(() => new ThreadedSpoolWriter({ spoolDir: spoolDir('ring'), ringBytes: 5 * 1024 * 1024 }, script)).toThrow(RangeError);
    expect(() => new ThreadedSpoolWriter({ spoolDir: spoolDir('ring'), ringBytes: 1024 }, script)).toThrow(RangeError);
  });
});
