/**
 * The libpcap addon and LiveCapture on real interfaces (needs root: CI runs as root). Frames of
 * known content are injected into one end of a veth pair and captured on the other.
 */
import { LinkType, type PacketRecord } from '@callscope/pcap-format';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LiveCapture, LiveCaptureUnavailable, loadLiveCaptureBinding, type LiveCaptureBinding } from '../src/index.js';
import { TEST_FILTER, createVethPair, testFrame, type VethPair } from './veth.js';

let binding: LiveCaptureBinding;
let veth: VethPair;

beforeAll(() => {
  binding = loadLiveCaptureBinding();
  veth = createVethPair('u');
});

afterAll(() => {
  veth.remove();
});

const sleep = (ms: number) =>
  new Promise((r) => {
    setTimeout(r, ms);
  });

/** Waits until `done()` or `ms` passed (batches arrive on the event loop, block timeout 100 ms). */
async function waitFor(done: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!done() && Date.now() < end) await sleep(20);
}

describe('open and close', () => {
  test('opens lo, reports link type, precision and snaplen; close is idempotent; stats after close', () => {
    const cap = new LiveCapture({ device: 'lo', filter: 'udp port 9' }, () => {});
    expect(cap.linkType).toBe(LinkType.Ethernet);
    expect(cap.precision).toBe('nano');
    cap.close();
    cap.close();
    expect(cap.stats()).toMatchObject({ device: 'lo', packets: 0, batches: 0, error: null });
    expect(() => { cap.setFilter('udp'); }).toThrow(/closed/);
    expect(() => cap.inject(new Uint8Array(60))).toThrow(/closed/);
  });

  test.each([
    ['no options', [undefined, () => {}], TypeError, /options must be an object/],
    ['no callback', [{ device: 'lo' }], TypeError, /onBatch must be a function/],
    ['no device', [{}, () => {}], TypeError, /device is required/],
    ['empty device', [{ device: '' }, () => {}], TypeError, /device must not be empty/],
    ['device not a string', [{ device: 3 }, () => {}], TypeError, /device must be a string/],
    ['snaplen too small', [{ device: 'lo', snaplen: 10 }, () => {}], RangeError, /snaplen must be an integer from 64 to 262144, not 10/],
    ['snaplen not an integer', [{ device: 'lo', snaplen: 100.5 }, () => {}], RangeError, /snaplen/],
    ['snaplen a string', [{ device: 'lo', snaplen: '100' }, () => {}], TypeError, /snaplen must be a number/],
    ['ring too small', [{ device: 'lo', bufferBytes: 1000 }, () => {}], RangeError, /bufferBytes/],
    ['timeout 0', [{ device: 'lo', timeoutMs: 0 }, () => {}], RangeError, /timeoutMs/],
    ['batch smaller than snaplen', [{ device: 'lo', snaplen: 65535, batchBytes: 1000 }, () => {}], RangeError, /batchBytes must be an integer from 65535/],
    ['promisc not a boolean', [{ device: 'lo', promisc: 1 }, () => {}], TypeError, /promisc must be a boolean/],
  ] as const)('bad arguments: %s', (_what, args, type, message) => {
    const open = (...a: unknown[]): unknown => (binding.open as (...b: unknown[]) => unknown).apply(binding, a);
    expect(() => open(...args)).toThrow(type);
    expect(() => open(...args)).toThrow(message);
  });

  test('an interface that does not exist: a clear error with libpcap\'s text, nothing left open', () => {
    for (let i = 0; i < 50; i++) {
      expect(() => new LiveCapture({ device: 'hAnosuch0' }, () => {})).toThrow(LiveCaptureUnavailable);
    }
    expect(() => new LiveCapture({ device: 'hAnosuch0' }, () => {})).toThrow(/cannot capture on "hAnosuch0": No such device exists.*needs root or CAP_NET_RAW/);
  });

  test('a filter that does not compile: libpcap\'s message and the filter, nothing left open', () => {
    expect(() => new LiveCapture({ device: 'lo', filter: 'bogus ((' }, () => {})).toThrow(/cannot capture on "lo": can't parse filter expression: syntax error \(filter "bogus \(\("\)$/);
  });

  test('setFilter: a bad filter throws and keeps the capture, a good one applies', () => {
    const cap = new LiveCapture({ device: 'lo', filter: 'udp port 9' }, () => {});
    try {
      expect(() => { cap.setFilter('bogus (('); }).toThrow(/can't parse filter expression/);
      expect(() => {
        (cap.setFilter as (this: LiveCapture, f: unknown) => void).call(cap, 5);
      }).toThrow(TypeError);
      cap.setFilter('udp port 10');
    } finally {
      cap.close();
    }
  });
});

describe('capture on a veth pair', () => {
  test('every injected frame arrives once, in order, with its bytes, lengths and kernel timestamp', async () => {
    const n = 5000;
    const got: { seq: number; capLen: number; origLen: number; ns: bigint; ok: boolean }[] = [];
    const cap = new LiveCapture({ device: veth.rx, filter: TEST_FILTER }, (rec: PacketRecord) => {
      const seq = (rec.data[14]! << 24) | (rec.data[15]! << 16) | (rec.data[16]! << 8) | rec.data[17]!;
      got.push({ seq, capLen: rec.capLen, origLen: rec.origLen, ns: BigInt(rec.tsSec) * 1_000_000_000n + BigInt(rec.tsNsec), ok: Buffer.from(rec.data).equals(testFrame(seq, rec.capLen)) });
    });
    const tx = binding.open({ device: veth.tx, filter: 'less 1', bufferBytes: 1 << 20 }, () => {});
    const before = BigInt(Date.now()) * 1_000_000n;
    let sentBytes = 0;
    for (let i = 0; i < n; i++) {
      const len = 60 + (i % 1400);
      sentBytes += tx.inject(testFrame(i, len));
    }
    const after = BigInt(Date.now() + 1) * 1_000_000n;
    tx.close();
    await waitFor(() => got.length >= n);
    const st = cap.stats();
    cap.close();
    expect(got.length).toBe(n);
    expect(got.map((g) => g.seq)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(got.every((g) => g.ok)).toBe(true);
    expect(got.every((g, i) => g.capLen === 60 + (i % 1400) && g.origLen === g.capLen)).toBe(true);
    expect(st).toMatchObject({ packets: n, bytes: sentBytes, truncated: 0, kernelDrops: 0, received: n, batchOverflow: 0 });
    expect(st.batches).toBeGreaterThan(0);
    expect(st.batches).toBeLessThan(n / 10);
    // Capture times, not delivery times: within the injection window, never going back, and with
    // nanoseconds (a µs-only clock would give multiples of 1000 for every packet).
    for (let i = 1; i < n; i++) expect(got[i]!.ns >= got[i - 1]!.ns).toBe(true);
    expect(got[0]!.ns >= before - 2_000_000n && got[n - 1]!.ns <= after).toBe(true);
    expect(got.some((g) => g.ns % 1000n !== 0n)).toBe(true);
  });

  test('a batch consumer gets the same packets a batch at a time: headers, back-to-back bytes, link type', async () => {
    const n = 3000;
    const got: { seq: number; capLen: number; origLen: number; ok: boolean }[] = [];
    let batches = 0;
    let contiguous = true;
    const cap = new LiveCapture(
      { device: veth.rx, filter: TEST_FILTER },
      {
        onBatch: (b) => {
          batches++;
          expect(b.linkType).toBe(LinkType.Ethernet);
          for (let i = 0, o = 0; i < b.count; i++, o += b.words) {
            const capLen = b.headers[o + 2]!;
            const off = b.headers[o + 4]!;
            if (i > 0 && off !== b.headers[o - b.words + 4]! + b.headers[o - b.words + 2]!) contiguous = false;
            const data = b.data.subarray(off, off + capLen);
            const seq = (data[14]! << 24) | (data[15]! << 16) | (data[16]! << 8) | data[17]!;
            got.push({ seq, capLen, origLen: b.headers[o + 3]!, ok: Buffer.from(data).equals(testFrame(seq, capLen)) });
          }
        },
      },
    );
    const tx = binding.open({ device: veth.tx, filter: 'less 1', bufferBytes: 1 << 20 }, () => {});
    for (let i = 0; i < n; i++) tx.inject(testFrame(i, 60 + (i % 1400)));
    tx.close();
    await waitFor(() => got.length >= n);
    const st = cap.stats();
    cap.close();
    expect(got.map((g) => g.seq)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(got.every((g, i) => g.ok && g.capLen === 60 + (i % 1400) && g.origLen === g.capLen)).toBe(true);
    expect(contiguous).toBe(true);
    expect(batches).toBe(st.batches);
    expect(st).toMatchObject({ packets: n, kernelDrops: 0 });
  });

  test('snaplen cuts long frames: caplen < len, counted as truncated', async () => {
    const got: [number, number][] = [];
    const cap = new LiveCapture({ device: veth.rx, filter: TEST_FILTER, snaplen: 100 }, (rec) => {
      got.push([rec.capLen, rec.origLen]);
    });
    const tx = binding.open({ device: veth.tx, filter: 'less 1', bufferBytes: 1 << 20 }, () => {});
    for (let i = 0; i < 10; i++) tx.inject(testFrame(i, i < 5 ? 80 : 1000));
    tx.close();
    await waitFor(() => got.length >= 10);
    const st = cap.stats();
    cap.close();
    expect(got).toEqual([...Array<[number, number]>(5).fill([80, 80]), ...Array<[number, number]>(5).fill([100, 1000])]);
    expect(st.truncated).toBe(5);
  });

  test('a ring too small for a stalled consumer drops in the kernel, and received = delivered + kernel drops = sent', async () => {
    const n = 60_000;
    let delivered = 0;
    let stalled = false;
    const cap = new LiveCapture({ device: veth.rx, filter: TEST_FILTER, bufferBytes: 1 << 20, timeoutMs: 10 }, () => {
      delivered++;
      if (!stalled) {
        // Hold the event loop on the first packet so the 1 MiB ring overflows.
        stalled = true;
        const until = Date.now() + 300;
        while (Date.now() < until);
      }
    });
    const tx = binding.open({ device: veth.tx, filter: 'less 1', bufferBytes: 1 << 20 }, () => {});
    const frame = testFrame(1, 200);
    // The first frame, then wait for its batch, so the consumer is stalled while the rest arrives.
    tx.inject(frame);
    await waitFor(() => delivered > 0);
    for (let i = 1; i < n; i++) tx.inject(frame);
    tx.close();
    let st = cap.stats();
    await waitFor(() => {
      st = cap.stats();
      return delivered + st.kernelDrops >= n;
    });
    await sleep(200);
    st = cap.stats();
    cap.close();
    expect(st.kernelDrops).toBeGreaterThan(0);
    expect(delivered).toBe(st.packets);
    expect(st.packets + st.kernelDrops).toBe(n);
    expect(st.received).toBe(n);
  });

  test('close() inside the packet callback stops delivery after that batch, without a crash', async () => {
    let seen = 0;
    const cap: LiveCapture = new LiveCapture({ device: veth.rx, filter: TEST_FILTER }, () => {
      seen++;
      cap.close();
    });
    const tx = binding.open({ device: veth.tx, filter: 'less 1', bufferBytes: 1 << 20 }, () => {});
    for (let i = 0; i < 100; i++) tx.inject(testFrame(i, 100));
    await waitFor(() => seen > 0);
    for (let i = 0; i < 100; i++) tx.inject(testFrame(i, 100));
    tx.close();
    await sleep(300);
    // The whole first batch is handed over (the callback is per packet), nothing after it.
    expect(seen).toBeGreaterThan(0);
    expect(seen).toBeLessThanOrEqual(100);
    expect(cap.stats().packets).toBe(seen);
  });
});
