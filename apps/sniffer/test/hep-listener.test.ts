/**
 * The HEP listener (issue 13): the HEP3 stream framing as a table (several messages in one chunk,
 * split at every byte offset, bad magic, bad lengths), the test encoder checked against tshark's
 * HEP dissector, and the listener on real loopback sockets: what it delivers (a UDP frame the
 * decoder unwraps to the HEP sender's packet and time) and what hostile peers get (counters,
 * closed connections, nothing else disturbed).
 */
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { fc, test as fcTest } from '@fast-check/vitest';
import { DecodeStatus, PacketDecoder, Transport, buildIpFrame, createDecodedPacket } from '@callscope/packet';
import { LinkType, PcapResolution, serializePcapGlobalHeader, serializePcapRecordHeader, type PacketRecord } from '@callscope/pcap-format';
import { createLogger } from '@callscope/runtime';
import { HepListener, hepListenerPort, type HepListenerOptions } from '../src/sources/hep-listener.js';
import { HepFramingStatus, HepStreamFramer } from '../src/sources/hep-stream-framer.js';
import { concat, encodeHep2, encodeHep3, sipOptions, type HepInner } from './hep-encode.js';

const ip4 = (a: number, b: number, c: number, d: number) => Uint8Array.of(a, b, c, d);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function inner(tag: string, extra: Partial<HepInner> = {}): HepInner {
  return { src: ip4(10, 0, 0, 1), dst: ip4(10, 0, 0, 2), srcPort: 5060, dstPort: 5062, proto: 17, tsSec: 1_764_000_000, tsUsec: 123_456, payload: sipOptions(tag), ...extra };
}

/** A HEP3 header with any length field (the rest of the message absent). */
function header(lengthField: number): Uint8Array {
  return Uint8Array.of(0x48, 0x45, 0x50, 0x33, lengthField >>> 8, lengthField & 0xff);
}

// ---------------------------------------------------------------------------------------------
describe('HEP3 encoder against independent decoders', () => {
  const check = inner('tsharkcheck', { src: ip4(192, 0, 2, 10), dst: ip4(198, 51, 100, 20), srcPort: 5070, dstPort: 5080, captureId: 77, tsSec: 1_764_000_123, tsUsec: 654_321 });

  /**
   * This message, decoded once by hep-js 1.0.22 (sipcapture's reference HEP library,
   * `HEPjs.decapsulate`, outside the repo): {"protocolFamily":2,"protocol":17,"srcIp":"192.0.2.10",
   * "dstIp":"198.51.100.20","srcPort":5070,"dstPort":5080,"timeSeconds":1764000123,
   * "timeUseconds":654321,"payloadType":1,"captureId":77} and the SIP text as payload.
   */
  const GOLDEN =
    '484550330151000000010007020000000200071100000003000ac000020a00000004000ac633641400000007000813ce00000008000813d800000009000a6924817b0000000a000a0009fbf10000000b0007010000000c000a0000004d0000000f00f4' +
    hex(sipOptions('tsharkcheck'));

  it('gives the bytes the reference HEP library decoded to the same fields', () => {
    expect(hex(encodeHep3(check))).toBe(GOLDEN);
  });

  // tshark decodes HEP only where its build has the HEP dissector (Wireshark 4.0.17 on this
  // machine has none: `tshark -G protocols` lists no "hep"); then it is the oracle.
  const tsharkHasHep = (() => {
    try {
      return /\thep$/m.test(execFileSync('tshark', ['-G', 'protocols'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 }));
    } catch {
      return false;
    }
  })();

  it.skipIf(!tsharkHasHep)('tshark dissects the encoded HEP3 message on udp/9060: inner addresses and the SIP payload', () => {
    const m = encodeHep3(check);
    const frame = new Uint8Array(28 + m.length);
    const fields = { ipVersion: 4, src4: 0x0a000001, dst4: 0x0a000002, src6: new Uint32Array(4), dst6: new Uint32Array(4), transport: Transport.Udp, srcPort: 40000, dstPort: 9060, tcpSeq: 0, tcpAck: 0, tcpFlags: 0, tcpWindow: 0 };
    const n = buildIpFrame(fields, m, 0, m.length, frame, 0);
    const file = new Uint8Array(24 + 16 + n);
    serializePcapGlobalHeader(file, 0, LinkType.Raw, 65535, PcapResolution.MICROSECONDS);
    serializePcapRecordHeader(file, 24, 1_764_000_200, 0, n, n, PcapResolution.MICROSECONDS);
    file.set(frame.subarray(0, n), 40);
    const dir = mkdtempSync(join(tmpdir(), 'hB-hep-tshark-'));
    try {
      writeFileSync(join(dir, 'hep3.pcap'), file);
      const out = execFileSync('tshark', ['-r', join(dir, 'hep3.pcap'), '-V'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      expect(out).toMatch(/192\.0\.2\.10/);
      expect(out).toMatch(/198\.51\.100\.20/);
      expect(out).toMatch(/5070/);
      expect(out).toMatch(/Session Initiation Protocol \(OPTIONS\)/);
      expect(out).toMatch(/Call-ID: tsharkcheck@10\.0\.0\.1/);
      expect(out).not.toMatch(/Malformed/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------------------------
describe('HepStreamFramer (HEP3 over TCP)', () => {
  const messages = [encodeHep3(inner('one')), encodeHep3(inner('two', { payload: new Uint8Array(3000).fill(0x41) })), Uint8Array.of(...header(6)), encodeHep3(inner('four'))];
  const stream = concat(messages);

  /** Runs `chunks` through a framer; the messages (copied) and the last status. */
  function frame(chunks: readonly Uint8Array[], max = 65535) {
    const got: string[] = [];
    const framer = new HepStreamFramer(max, (buf, off, len) => got.push(hex(buf.subarray(off, off + len))));
    let status: HepFramingStatus = HepFramingStatus.Ok;
    for (const c of chunks) {
      status = framer.push(c);
      if (status !== HepFramingStatus.Ok) break;
    }
    return { got, status, framer };
  }

  it('delivers every message of one chunk, a 6-byte (header only) message included', () => {
    const r = frame([stream]);
    expect(r.status).toBe(HepFramingStatus.Ok);
    expect(r.got).toEqual(messages.map(hex));
    expect(r.framer.pending).toBe(0);
  });

  it('gives the same messages for a split at every byte offset', () => {
    for (let cut = 1; cut < stream.length; cut++) {
      const r = frame([stream.subarray(0, cut), stream.subarray(cut)]);
      expect(r.status, `cut ${cut}`).toBe(HepFramingStatus.Ok);
      expect(r.got, `cut ${cut}`).toEqual(messages.map(hex));
    }
  });

  it('gives the same messages fed one byte at a time, and in three pieces at varied offsets', () => {
    expect(frame(Array.from(stream, (b) => Uint8Array.of(b))).got).toEqual(messages.map(hex));
    for (let a = 1; a < stream.length; a += 97) {
      for (let b = a + 1; b < stream.length; b += 389) {
        expect(frame([stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)]).got, `${a}/${b}`).toEqual(messages.map(hex));
      }
    }
  });

  it('holds an incomplete message as pending (lost if the stream ends there)', () => {
    const r = frame([stream.subarray(0, messages[0]!.length + 10)]);
    expect(r.got).toEqual([hex(messages[0]!)]);
    expect(r.framer.pending).toBe(10);
  });

  const bad: [string, Uint8Array[], HepFramingStatus, number, number][] = [
    ['garbage at the start', [new TextEncoder().encode('GET / HTTP/1.1\r\n\r\n')], HepFramingStatus.NotHep, 0, 65535],
    ['one garbage byte (refused at once, not at the idle timeout)', [Uint8Array.of(0x58)], HepFramingStatus.NotHep, 0, 65535],
    ['"HE" then garbage in the next chunk', [Uint8Array.of(0x48, 0x45), Uint8Array.of(0x4c, 0x4c, 0x4f)], HepFramingStatus.NotHep, 0, 65535],
    ['garbage after two good messages', [concat([messages[0]!, messages[1]!, new TextEncoder().encode('HEP2xxxxxx')])], HepFramingStatus.NotHep, 2, 65535],
    ['HEP v2 (first byte 2)', [encodeHep2(inner('v2'))], HepFramingStatus.HepV2, 0, 65535],
    ['HEP v1 (first byte 1)', [Uint8Array.of(1, 16, 2, 17)], HepFramingStatus.HepV2, 0, 65535],
    ['length 0', [header(0)], HepFramingStatus.BadLength, 0, 65535],
    ['length 5', [header(5)], HepFramingStatus.BadLength, 0, 65535],
    ['length 5 after a good message, header split', [concat([messages[0]!, header(5).subarray(0, 3)]), header(5).subarray(3)], HepFramingStatus.BadLength, 1, 65535],
    ['length 65535 over a 65507 cap', [header(65535)], HepFramingStatus.Oversize, 0, 65507],
    ['a message one byte over the cap', [concat([messages[0]!, header(1001)])], HepFramingStatus.Oversize, 1, 1000],
  ];
  it.each(bad)('%s: stops with the fault, after the messages before it', (_name, chunks, status, before, max) => {
    const r = frame(chunks, max);
    expect(r.status).toBe(status);
    expect(r.got.length).toBe(before);
    // A failed framer takes nothing more.
    expect(r.framer.push(messages[0]!)).toBe(HepFramingStatus.Stopped);
    expect(r.framer.pending).toBe(0);
  });

  it('stops within a chunk when the callback stops it', () => {
    const got: number[] = [];
    const framer = new HepStreamFramer(65535, (_b, _o, len) => {
      got.push(len);
      framer.stop();
    });
    expect(framer.push(stream)).toBe(HepFramingStatus.Stopped);
    expect(got).toEqual([messages[0]!.length]);
  });

  it('refuses a maximum outside 6..65535', () => {
    expect(() => new HepStreamFramer(5, () => undefined)).toThrow(RangeError);
    expect(() => new HepStreamFramer(65536, () => undefined)).toThrow(RangeError);
  });

  fcTest.prop([fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 })])('never throws on arbitrary chunks; what it delivers is HEP3 framed by its own length', (chunks) => {
    const framer = new HepStreamFramer(65535, (buf, off, len) => {
      expect(buf[off]).toBe(0x48);
      expect((buf[off + 4]! << 8) | buf[off + 5]!).toBe(len);
    });
    for (const c of chunks) framer.push(c);
  });

  fcTest.prop([fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 12 }), fc.array(fc.integer({ min: 1, max: 700 }), { maxLength: 30 })])(
    'any messages cut into any pieces come out whole and in order',
    (sizes, cuts) => {
      const msgs = sizes.map((s, i) => encodeHep3(inner(`m${i}`, { payload: new Uint8Array(s).fill(i & 0xff) })));
      const all = concat(msgs);
      const chunks: Uint8Array[] = [];
      let at = 0;
      for (const c of cuts) {
        if (at >= all.length) break;
        chunks.push(all.subarray(at, Math.min(all.length, at + c)));
        at += c;
      }
      if (at < all.length) chunks.push(all.subarray(at));
      expect(frame(chunks).got).toEqual(msgs.map(hex));
    },
  );
});

// ---------------------------------------------------------------------------------------------
describe('HepListener on loopback', () => {
  const listeners: HepListener[] = [];
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    for (const l of listeners.splice(0)) await l.stop();
  });

  /** A started listener on a free port of 127.0.0.1 with copies of what it delivered. */
  async function listen(opts: Partial<HepListenerOptions> = {}) {
    const recs: { linkType: number; tsSec: number; tsNsec: number; data: Uint8Array }[] = [];
    const l = new HepListener({ host: '127.0.0.1', port: 0, ...opts }, (r: PacketRecord) => {
      expect(r.data.length).toBe(r.capLen);
      recs.push({ linkType: r.linkType, tsSec: r.tsSec, tsNsec: r.tsNsec, data: r.data.slice() });
    });
    listeners.push(l);
    await l.start();
    return { l, recs, port: l.address().port };
  }

  async function waitFor(what: string, cond: () => boolean, ms = 5000): Promise<void> {
    const until = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  async function sendUdp(port: number, datagrams: readonly Uint8Array[], host = '127.0.0.1'): Promise<void> {
    const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    for (const d of datagrams) await new Promise<void>((res, rej) => { s.send(d, port, host, (err) => {
          if (err) rej(err);
          else res();
        }); });
    s.close();
  }

  async function tcp(port: number, host = '127.0.0.1'): Promise<Socket> {
    const s = connect({ host, port });
    sockets.push(s);
    s.on('error', () => undefined); // resets by the listener are what some tests provoke
    await new Promise<void>((res, rej) => {
      s.once('connect', res);
      s.once('error', rej);
    });
    return s;
  }

  function closed(s: Socket): Promise<void> {
    return new Promise<void>((res) => {
      if (s.closed) res();
      else
        s.once('close', () => {
          res();
        });
    });
  }

  /** The listener's frame through the decoder, with the listener's port as a HEP port. */
  function decode(rec: { linkType: number; tsSec: number; tsNsec: number; data: Uint8Array }, port: number) {
    const d = new PacketDecoder({ hepPorts: [port] });
    const p = createDecodedPacket();
    const st = d.decode(rec.data, 0, rec.data.length, rec.linkType, rec.tsSec, rec.tsNsec, p);
    return { st, p };
  }

  it('hepListenerPort reads the port of HOST:PORT', () => {
    expect(hepListenerPort('0.0.0.0:9060')).toBe(9060);
    expect(hepListenerPort('[::]:9061')).toBe(9061);
    expect(hepListenerPort('nope')).toBeNull();
  });

  it('UDP HEP3 and HEP2: one raw IPv4/UDP frame each, sender -> listener port, received now; the decoder gives back the HEP packet and time', async () => {
    const { l, recs, port } = await listen();
    const before = Date.now() / 1000;
    const m3 = inner('udp3', { src: ip4(192, 0, 2, 1), dst: ip4(192, 0, 2, 2), srcPort: 5071, dstPort: 5072, captureId: 9 });
    const m2 = inner('udp2', { tsUsec: 999_999 });
    await sendUdp(port, [encodeHep3(m3), encodeHep2(m2)]);
    await waitFor('2 messages', () => recs.length === 2);
    for (const r of recs) {
      expect(r.linkType).toBe(LinkType.Raw);
      expect(r.data[0]).toBe(0x45);
      expect(r.tsSec + r.tsNsec / 1e9).toBeGreaterThanOrEqual(before - 0.01);
      expect(r.tsSec + r.tsNsec / 1e9).toBeLessThanOrEqual(Date.now() / 1000 + 0.01);
      expect((r.data[22]! << 8) | r.data[23]!).toBe(port); // UDP destination port
      expect(Array.from(r.data.subarray(12, 20))).toEqual([127, 0, 0, 1, 127, 0, 0, 1]);
    }
    const a = decode(recs[0]!, port);
    expect(a.st).toBe(DecodeStatus.Ok);
    expect(a.p.fromHep).toBe(true);
    expect(a.p.tsOverridden).toBe(true);
    expect([a.p.src4 >>> 0, a.p.dst4 >>> 0, a.p.srcPort, a.p.dstPort]).toEqual([0xc0000201, 0xc0000202, 5071, 5072]);
    expect([a.p.tsSec, a.p.tsNsec]).toEqual([1_764_000_000, 123_456_000]);
    expect(new TextDecoder().decode(a.p.payload.subarray(a.p.payloadOffset, a.p.payloadOffset + a.p.payloadLength))).toContain('Call-ID: udp3@');
    const b = decode(recs[1]!, port);
    expect(b.st).toBe(DecodeStatus.Ok);
    expect([b.p.tsSec, b.p.tsNsec, b.p.srcPort]).toEqual([1_764_000_000, 999_999_000, 5060]);
    const st = l.stats();
    expect(st).toMatchObject({ kind: 'hep', name: `127.0.0.1:${port}`, received: 2, udp_datagrams: 2, udp_messages: 2, kernel_drops: 0, bad_not_hep: 0 });
    expect(st.udp_receive_buffer).toBeGreaterThan(0);
  });

  it('UDP: garbage, empty, bad and lying lengths, oversize are counted and dropped; trailing bytes dropped after the message', async () => {
    const { l, recs, port } = await listen({ maxMessageBytes: 600 });
    const good = encodeHep3(inner('ok'));
    const lying = good.slice();
    lying[5] = lying[5]! + 1; // one byte longer than the datagram
    await sendUdp(port, [
      new TextEncoder().encode('hello, not HEP'),
      new Uint8Array(0),
      header(0),
      header(5),
      Uint8Array.of(0x48, 0x45, 0x50, 0x33, 0),
      lying,
      encodeHep3(inner('big', { payload: new Uint8Array(700) })),
      concat([good, new Uint8Array(7)]),
      good,
    ]);
    await waitFor('9 datagrams', () => l.stats().udp_datagrams === 9);
    expect(l.stats()).toMatchObject({ bad_not_hep: 2, bad_length: 4, bad_oversize: 1, udp_trailing_dropped: 1, received: 2 });
    expect(recs.length).toBe(2);
    expect(recs[0]!.data.length).toBe(28 + good.length);
  });

  it('TCP: every message of a segment, messages split across segments, several connections at once', async () => {
    const { l, recs, port } = await listen();
    const msgs = Array.from({ length: 50 }, (_, i) => encodeHep3(inner(`tcp${i}`, { proto: 6, payload: sipOptions(`tcp${i}`) })));
    const all = concat(msgs);
    const a = await tcp(port);
    const b = await tcp(port);
    a.write(all.subarray(0, 1000)); // several whole messages and a cut one in the first segment
    b.write(concat(msgs.slice(0, 5)));
    await waitFor('b', () => recs.length >= 5);
    a.write(all.subarray(1000));
    await waitFor('55 messages', () => recs.length === 55);
    expect(l.stats()).toMatchObject({ tcp_connections_open: 2, tcp_connections_total: 2, tcp_messages: 55, received: 55, tcp_bytes: all.length + concat(msgs.slice(0, 5)).length });
    const ids = recs.map((r) => {
      const { st, p } = decode(r, port);
      expect(st).toBe(DecodeStatus.Ok);
      expect(p.transport).toBe(Transport.Tcp); // the HEP protocol, not the frame's UDP
      return /Call-ID: (\w+)@/.exec(new TextDecoder().decode(p.payload.subarray(p.payloadOffset, p.payloadOffset + p.payloadLength)))![1];
    });
    expect(ids.filter((id) => id!.startsWith('tcp')).length).toBe(55);
    expect(ids.filter((_, i) => i >= 0).sort()).toEqual([...Array.from({ length: 50 }, (_, i) => `tcp${i}`), ...Array.from({ length: 5 }, (_, i) => `tcp${i}`)].sort());
  });

  const hostile: [string, Uint8Array, string][] = [
    ['garbage', new TextEncoder().encode('GET / HTTP/1.0\r\n\r\n'), 'bad_not_hep'],
    ['HEP v2 (cannot be framed on TCP)', encodeHep2(inner('v2')), 'bad_v2_on_tcp'],
    ['length field 0', header(0), 'bad_length'],
    ['length field 5', header(5), 'bad_length'],
    ['length field 65535 (over what a UDP frame carries)', header(65535), 'bad_oversize'],
  ];
  it.each(hostile)('TCP %s: counted, that connection closed, a good connection beside it unaffected', async (_name, bytes, counter) => {
    const { l, recs, port } = await listen();
    const good = await tcp(port);
    const bad = await tcp(port);
    good.write(encodeHep3(inner('before', { proto: 6 })));
    bad.write(concat([encodeHep3(inner('first', { proto: 6 })), bytes]));
    await closed(bad);
    good.write(encodeHep3(inner('after', { proto: 6 })));
    await waitFor('3 messages', () => recs.length === 3);
    const st = l.stats();
    expect(st[counter]).toBe(1);
    expect(st).toMatchObject({ tcp_connections_open: 1, tcp_connections_total: 2, bad_truncated_at_close: 0, received: 3 });
    expect(good.destroyed).toBe(false);
  });

  it('TCP: a message cut by the peer closing is counted as truncated at close', async () => {
    const { l, recs, port } = await listen();
    const s = await tcp(port);
    const m = encodeHep3(inner('cut', { proto: 6 }));
    s.end(concat([m, m.subarray(0, 40)]));
    await waitFor('connection gone', () => l.stats().tcp_connections_total === 1 && l.stats().tcp_connections_open === 0);
    expect(recs.length).toBe(1);
    expect(l.stats().bad_truncated_at_close).toBe(1);
  });

  it('TCP: a silent connection (slowloris) is closed at the idle timeout; a busy one is not', async () => {
    const { l, recs, port } = await listen({ idleTimeoutMs: 300 });
    const silent = await tcp(port);
    silent.write(header(100).subarray(0, 3)); // a message begun, never finished
    const busy = await tcp(port);
    const t0 = Date.now();
    const timer = setInterval(() => busy.write(encodeHep3(inner('busy', { proto: 6 }))), 50);
    try {
      await closed(silent);
    } finally {
      clearInterval(timer);
    }
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(busy.destroyed).toBe(false);
    expect(l.stats()).toMatchObject({ idle_closed: 1, bad_truncated_at_close: 1, tcp_connections_open: 1 });
    expect(recs.length).toBeGreaterThan(3);
  });

  it('TCP: a sender trickling one message byte by byte (never idle) is closed once the message takes longer than the timeout', async () => {
    const { l, recs, port } = await listen({ idleTimeoutMs: 300 });
    const slow = await tcp(port);
    const m = encodeHep3(inner('slow', { proto: 6 }));
    slow.write(m); // whole messages are fine
    const t0 = Date.now();
    let i = 0;
    const timer = setInterval(() => {
      if (!slow.destroyed) slow.write(m.subarray(i, ++i));
    }, 40);
    try {
      await closed(slow);
    } finally {
      clearInterval(timer);
    }
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(recs.length).toBe(1);
    expect(l.stats()).toMatchObject({ slow_closed: 1, idle_closed: 0, bad_truncated_at_close: 1, tcp_connections_open: 0 });
  });

  it('TCP: connections over maxConnections are closed at once and counted; the others go on', async () => {
    const { l, recs, port } = await listen({ maxConnections: 2 });
    const a = await tcp(port);
    const b = await tcp(port);
    await waitFor('2 open', () => l.stats().tcp_connections_open === 2);
    const c = await tcp(port);
    await closed(c);
    a.write(encodeHep3(inner('a', { proto: 6 })));
    b.write(encodeHep3(inner('b', { proto: 6 })));
    await waitFor('2 messages', () => recs.length === 2);
    expect(l.stats()).toMatchObject({ connections_refused: 1, tcp_connections_open: 2, tcp_connections_total: 2 });
    a.destroy();
    await waitFor('1 open', () => l.stats().tcp_connections_open === 1);
    const d = await tcp(port); // room again
    d.write(encodeHep3(inner('d', { proto: 6 })));
    await waitFor('3 messages', () => recs.length === 3);
    expect(l.stats().connections_refused).toBe(1);
  });

  it('logs a refusal once per reason per 10 s (with the count not logged), never per packet', async () => {
    const lines: { msg: string; reason?: string; level: number }[] = [];
    const destination = new PassThrough();
    destination.on('data', (b: Buffer) => {
      for (const l of b.toString().split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l) as { msg: string; reason?: string; level: number });
    });
    const { l, port } = await listen({ logger: createLogger({ app: 'test', level: 'info', pretty: false, destination }) });
    await sendUdp(port, Array.from({ length: 20 }, () => new TextEncoder().encode('garbage')));
    const a = await tcp(port);
    a.write('also garbage');
    await closed(a);
    await waitFor('20 datagrams', () => l.stats().udp_datagrams === 20);
    await new Promise((r) => setImmediate(r));
    const warns = lines.filter((x) => x.level === 40);
    expect(l.stats().bad_not_hep).toBe(21);
    expect(warns.map((w) => w.reason)).toEqual(['bad_not_hep']); // the TCP one falls in the same 10 s
    expect(lines.some((x) => x.level === 30 && x.msg.includes(`HEP listener on 127.0.0.1:${port} (UDP and TCP)`))).toBe(true);
  });

  it('a sink that throws is counted, the listener goes on', async () => {
    let n = 0;
    const l = new HepListener({ host: '127.0.0.1', port: 0 }, () => {
      if (n++ === 0) throw new Error('downstream bug');
    });
    listeners.push(l);
    await l.start();
    await sendUdp(l.address().port, [encodeHep3(inner('x')), encodeHep3(inner('y'))]);
    await waitFor('2 datagrams', () => l.stats().udp_datagrams === 2);
    expect(l.stats()).toMatchObject({ sink_errors: 1, received: 2 });
    expect(n).toBe(2);
  });

  it('start: a clear error when the port is taken (UDP or TCP), the address is not local, or the host does not resolve; nothing left open', async () => {
    const { port } = await listen();
    const second = new HepListener({ host: '127.0.0.1', port }, () => undefined);
    await expect(second.start()).rejects.toThrow(`HEP listener 127.0.0.1:${port}: the port is in use (EADDRINUSE)`);
    // Only the UDP port taken: TCP binds first, and must be closed again.
    const udp = createSocket('udp4');
    await new Promise<void>((res) => udp.bind(0, '127.0.0.1', () => { res(); }));
    const udpPort = udp.address().port;
    const third = new HepListener({ host: '127.0.0.1', port: udpPort }, () => undefined);
    await expect(third.start()).rejects.toThrow(/port is in use/);
    udp.close();
    const fourth = new HepListener({ host: '127.0.0.1', port: udpPort }, () => undefined);
    listeners.push(fourth);
    await fourth.start(); // the TCP port was released by the failed start
    await expect(new HepListener({ host: '192.0.2.77', port: 9 }, () => undefined).start()).rejects.toThrow(/not one of this host's \(EADDRNOTAVAIL\)/);
    await expect(new HepListener({ host: 'no-such-host.invalid', port: 9060 }, () => undefined).start()).rejects.toThrow(/cannot resolve host "no-such-host.invalid"/);
    expect(() => new HepListener({ host: '127.0.0.1', port: 70000 }, () => undefined)).toThrow(RangeError);
    expect(() => new HepListener({ host: '127.0.0.1', port: 1, maxMessageBytes: 10 }, () => undefined)).toThrow(RangeError);
  });

  it('stop closes the sockets and open connections (a message in progress counted truncated), is idempotent, and stats stay readable', async () => {
    const { l, port } = await listen();
    const s = await tcp(port);
    s.write(header(200));
    await waitFor('bytes in', () => l.stats().tcp_bytes === 6);
    await Promise.all([l.stop(), l.stop()]);
    await closed(s);
    await l.stop();
    expect(l.stats()).toMatchObject({ tcp_connections_open: 0, bad_truncated_at_close: 1 });
    const again = connect({ host: '127.0.0.1', port });
    const err = await new Promise<NodeJS.ErrnoException>((res) => again.once('error', res));
    expect(err.code).toBe('ECONNREFUSED');
  });

  it('an IPv6 listener (::1) frames IPv6', async () => {
    const recs: Uint8Array[] = [];
    const l = new HepListener({ host: '::1', port: 0 }, (r) => recs.push(r.data.slice()));
    listeners.push(l);
    try {
      await l.start();
    } catch (err) {
      if (/EADDRNOTAVAIL|EAFNOSUPPORT/.test(String(err))) return; // no IPv6 loopback here
      throw err;
    }
    expect(l.name).toBe(`[::1]:${l.address().port}`);
    await sendUdp(l.address().port, [encodeHep3(inner('v6'))], '::1');
    const s = await tcp(l.address().port, '::1');
    s.write(encodeHep3(inner('v6tcp', { proto: 6 })));
    await waitFor('2', () => recs.length === 2);
    for (const r of recs) {
      expect(r[0]! >> 4).toBe(6);
      const { st, p } = decode({ linkType: LinkType.Raw, tsSec: 1, tsNsec: 0, data: r }, l.address().port);
      expect(st).toBe(DecodeStatus.Ok);
      expect(p.fromHep).toBe(true);
    }
  });
});
