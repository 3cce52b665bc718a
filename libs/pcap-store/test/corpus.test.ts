import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { readCaptureFile, readCaptureStream } from '../src/index.js';
import { CaptureFormat, type CaptureSummary, type PacketRecord, LinkType } from '@callscope/pcap-format';
import { corpusCaptures, corpusPath, parseCapinfosTime } from '@callscope/testing';

const ENCAPSULATION: Record<string, number> = { ether: LinkType.Ethernet, 'linux-sll': LinkType.LinuxSll };
const FILE_TYPE: Record<string, string> = {
  pcap: CaptureFormat.PCAP,
  nsecpcap: CaptureFormat.PCAP_NSEC,
  pcapng: CaptureFormat.PCAPNG,
};

const captures = corpusCaptures().map((c) => ({ file: c.name, truth: c.truth.capture }));

/** Hash of everything a record carries except the buffer identity. */
function recordHasher(): { add: (r: PacketRecord) => void; digest: () => string } {
  const hash = createHash('sha256');
  const meta = new Float64Array(7);
  return {
    add(r) {
      meta.set([r.linkType, r.tsSec, r.tsNsec, r.capLen, r.origLen, r.index, r.fileOffset]);
      hash.update(meta);
      hash.update(r.data);
    },
    digest: () => hash.digest('hex'),
  };
}

async function digestFile(path: string, chunkSize?: number): Promise<{ digest: string; summary: CaptureSummary }> {
  const h = recordHasher();
  const summary = await readCaptureFile(path, (r) => {
    h.add(r);
  }, chunkSize === undefined ? {} : { chunkSize });
  return { digest: h.digest(), summary };
}

const tmp = mkdtempSync(join(tmpdir(), 'pcap-store-corpus-'));
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('reference corpus (truth: capinfos via tshark 4.0)', () => {
  it('has the captures the brief names', () => {
    const names = captures.map((c) => c.file);
    expect(names).toContain('register-auth.pcapng');
    expect(names).toContain('ipv6-call.pcap');
    expect(names).toContain('basic-call-linux-sll.pcap');
    expect(captures.length).toBeGreaterThanOrEqual(20);
  });

  it.each(captures)('$file: count, link type, format and first/last timestamps', async ({ file, truth }) => {
    let expectedIndex = 0;
    let lastOffset = -1;
    let badRecords = 0;
    const summary = await readCaptureFile(corpusPath(file), (r) => {
      if (r.index !== expectedIndex++ || r.fileOffset <= lastOffset || r.data.length !== r.capLen) badRecords++;
      if (r.tsNsec < 0 || r.tsNsec > 999_999_999 || !Number.isInteger(r.tsNsec)) badRecords++;
      lastOffset = r.fileOffset;
    });
    expect(badRecords).toBe(0);
    expect(summary.packets).toBe(truth.packets);
    expect(summary.linkTypes).toEqual([ENCAPSULATION[truth.encapsulation]]);
    expect(summary.format).toBe(FILE_TYPE[truth.file_type]);
    expect(summary.first).toEqual(parseCapinfosTime(truth.first_packet_time));
    expect(summary.last).toEqual(parseCapinfosTime(truth.last_packet_time));
    const digits = Number(/\((\d+)\)/.exec(truth.timestamp_precision)![1]);
    expect(summary.interfaces.map((i) => i.tsExponent)).toEqual(summary.interfaces.map(() => digits));
    expect(summary.truncation).toBeNull();
    expect(summary.compressed).toBe(false);
  });

  it('gives identical records whatever the chunk size (records spanning chunks are carried)', async () => {
    for (const file of ['register-auth.pcapng', 'ipv6-call.pcap', 'basic-call-linux-sll.pcap']) {
      const whole = await digestFile(corpusPath(file));
      for (const chunkSize of [64, 1000, 4099]) {
        const split = await digestFile(corpusPath(file), chunkSize);
        expect(split.digest, `${file} chunk ${chunkSize}`).toBe(whole.digest);
        expect(split.summary).toEqual(whole.summary);
      }
    }
  });

  it('reads gzip-compressed pcap and pcapng identically, flagged compressed', async () => {
    for (const file of ['register-auth.pcapng', 'cancel-487.pcap']) {
      const plain = await digestFile(corpusPath(file));
      const gz = join(tmp, `${file}.gz`);
      const gzBytes = gzipSync(readFileSync(corpusPath(file)));
      writeFileSync(gz, gzBytes);
      const packed = await digestFile(gz, 128);
      expect(packed.digest).toBe(plain.digest);
      const gzip = { members: 1, compressedBytes: gzBytes.length, trailingGarbageBytes: 0, crcMismatches: 0, damage: null };
      expect(packed.summary).toEqual({ ...plain.summary, compressed: true, gzip });
    }
  });

  it('waits for a promise-returning callback before touching the buffer again', async () => {
    const path = corpusPath('cancel-487.pcap');
    const expected = await digestFile(path, 100);
    const h = recordHasher();
    let inFlight = 0;
    let overlaps = 0;
    await readCaptureFile(
      path,
      async (r) => {
        if (inFlight++ !== 0) overlaps++;
        await new Promise((resolve) => setImmediate(resolve));
        h.add(r); // still valid: the reader has not read on while we awaited
        inFlight--;
      },
      { chunkSize: 100 },
    );
    expect(overlaps).toBe(0);
    expect(h.digest()).toBe(expected.digest);
  });

  it('readCaptureStream reads a Readable of uneven chunks like the file reader', async () => {
    const path = corpusPath('register-auth.pcapng');
    const bytes = readFileSync(path);
    const chunks: Buffer[] = [];
    for (let i = 0, n = 1; i < bytes.length; i += n, n = (n * 7) % 997 + 1) chunks.push(bytes.subarray(i, i + n));
    const h = recordHasher();
    const summary = await readCaptureStream(Readable.from(chunks), (r) => {
      h.add(r);
    });
    const expected = await digestFile(path);
    expect(h.digest()).toBe(expected.digest);
    expect(summary).toEqual(expected.summary);
  });

  it('stops when the abort signal fires, rejecting with its reason', async () => {
    const controller = new AbortController();
    let seen = 0;
    const reading = readCaptureFile(
      corpusPath('basic-callee-bye-pcmu.pcap'),
      () => {
        if (++seen === 10) controller.abort(new Error('enough'));
      },
      { signal: controller.signal },
    );
    await expect(reading).rejects.toThrow('enough');
    expect(seen).toBe(10);
  });
});
