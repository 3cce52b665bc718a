import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { CaptureError, CaptureErrorCode, CaptureParser, type CaptureSummary } from '@callscope/pcap-format';
import { readCaptureFile } from '@callscope/pcap-store';
import { corpusPath } from '@callscope/testing';
import { describeCaptureDamage } from './capture-report.js';

const tmp = mkdtempSync(join(tmpdir(), 'capture-report-'));
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

const PLAIN = readFileSync(corpusPath('basic-caller-bye-pcma.pcap'));

async function summaryOf(name: string, content: Uint8Array): Promise<CaptureSummary> {
  const path = join(tmp, name);
  writeFileSync(path, content);
  return readCaptureFile(path, () => undefined);
}

function clean(): CaptureSummary {
  return new CaptureParser().summary();
}

describe('describeCaptureDamage', () => {
  it('says nothing about a clean file, plain or gzip', async () => {
    expect(describeCaptureDamage('a.pcap', await summaryOf('a.pcap', PLAIN))).toEqual([]);
    expect(describeCaptureDamage('a.pcap.gz', await summaryOf('a.pcap.gz', gzipSync(PLAIN)))).toEqual([]);
  });

  it('a cut .pcap and a cut .pcap.gz both get one "cut" line saying the packets before were analysed', async () => {
    const plain = describeCaptureDamage('cut.pcap', await summaryOf('cut.pcap', PLAIN.subarray(0, PLAIN.length - 7)));
    expect(plain).toEqual([expect.stringMatching(/^sniffer analyze: cut\.pcap: the last record is cut short \(TRUNCATED_RECORD_DATA at offset \d+: .*\); every complete packet before it was analysed$/)]);
    const gz = gzipSync(PLAIN);
    const zipped = describeCaptureDamage('cut.pcap.gz', await summaryOf('cut.pcap.gz', gz.subarray(0, gz.length >> 1)));
    expect(zipped).toEqual([expect.stringMatching(/^sniffer analyze: cut\.pcap\.gz: the gzip data is cut off \(GZIP_TRUNCATED .*\); every complete packet that decompressed before it was analysed \(\d+ packets\)$/)]);
  });

  it('gzip trailing garbage: counted bytes, not an error', async () => {
    const lines = describeCaptureDamage('g.pcap.gz', await summaryOf('g.pcap.gz', Buffer.concat([gzipSync(PLAIN), Buffer.alloc(100, 0x41)])));
    expect(lines).toEqual(['sniffer analyze: g.pcap.gz: 100 bytes after the last gzip member are not gzip data and were ignored (as gzip -d does); every packet before them was analysed']);
  });

  it('a damaged record header: resyncs, skipped bytes and the first damage', async () => {
    const damaged = Buffer.from(PLAIN);
    let at = 24;
    for (let i = 0; i < 40; i++) at += 16 + damaged.readUInt32LE(at + 8);
    damaged[at + 10]! ^= 0x10;
    const lines = describeCaptureDamage('d.pcap', await summaryOf('d.pcap', damaged));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^sniffer analyze: d\\.pcap: 1 damaged record header or block \\(first: CAPLEN_TOO_LARGE at offset ${at}: .*\\); skipped \\d+ bytes to the next plausible record each time and analysed every packet after it$`));
  });

  it('corrupt gzip data, CRC mismatches and tolerated anomalies, each on its own line', () => {
    const s = clean();
    const damage = new CaptureError(CaptureErrorCode.GZIP_ERROR, 1000, 'deflate data corrupt');
    s.gzip = { members: 1, compressedBytes: 500, trailingGarbageBytes: 0, crcMismatches: 2, damage };
    s.truncation = damage;
    s.packets = 7;
    s.counters = { capLenOverSnaplen: 1, origLenBelowCapLen: 2, fractionOverflow: 3, skippedBlocks: 4, resyncs: 0, skippedBytes: 0 };
    expect(describeCaptureDamage('x.gz', s)).toEqual([
      'sniffer analyze: x.gz: the gzip data is corrupt (GZIP_ERROR at offset 1000: deflate data corrupt); every complete packet that decompressed before it was analysed (7 packets), the rest of the file is unreadable',
      'sniffer analyze: x.gz: 2 gzip members failed the CRC-32/length check of their trailer; the packets were analysed but may be corrupt',
      'sniffer analyze: x.gz: read with 1 record longer than the snaplen, 2 records with an original length below the captured length, 3 timestamps with a µs/ns part of 1 s or more (carried into the seconds), 4 non-packet pcapng blocks skipped (name resolution, statistics...); those packets were analysed',
    ]);
  });
});
