/**
 * The mirror receiver (issue 16) on real loopback sockets against a sender built from
 * @callscope/mirror-protocol (test/mirror-test-client.ts): the handshake accepted and refused,
 * batches delivered in order, resends dropped as duplicates, the sender's overflow counted lost, a
 * reconnect resuming from the acked sequence; and every hostile peer (wrong secret, wrong version,
 * garbage, a truncated frame, a 4 GiB length, a decompression bomb, slowloris, too many
 * connections) ending only its own connection, counted and logged, while a good sender streams on.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { brotliCompressSync, deflateSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { compressBatch, compressZstdSplit } from '@callscope/mirror-codec';
import { AuthFailure, Compression, appendRawPacket, createRawBatch, encodeFrame, type Packet } from '@callscope/mirror-protocol';
import { createLogger } from '@callscope/runtime';
import { MirrorReceiver, type MirrorReceiverOptions, type MirrorSensor } from '../src/sources/mirror-receiver.js';
import { TestMirrorClient } from './mirror-test-client.js';

const SECRET = new TextEncoder().encode('correct horse battery staple');
const WRONG = new TextEncoder().encode('incorrect horse');

/** What the receiver delivered, per sensor, copied (the record is reused). */
interface Delivered {
  sensor: MirrorSensor;
  tag: string;
  linkType: number;
  tsSec: number;
  tsNsec: number;
  origLen: number;
}

const open: { receivers: MirrorReceiver[]; clients: TestMirrorClient[] } = { receivers: [], clients: [] };
afterEach(async () => {
  for (const c of open.clients) c.destroy();
  for (const r of open.receivers) await r.stop();
  open.clients = [];
  open.receivers = [];
});

async function startReceiver(extra: Partial<MirrorReceiverOptions> = {}) {
  const delivered: Delivered[] = [];
  const logLines: { msg: string; reason?: string }[] = [];
  const dest = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') logLines.push(JSON.parse(line) as { msg: string; reason?: string });
      cb();
    },
  });
  const logger = createLogger({ app: 'test', level: 'info', pretty: false, destination: dest });
  const sinks: MirrorSensor[] = [];
  const receiver = new MirrorReceiver({ host: '127.0.0.1', port: 0, secret: SECRET, logger, ...extra }, (sensor) => {
    sinks.push(sensor);
    return (rec) => {
      delivered.push({ sensor, tag: Buffer.from(rec.data).toString('latin1'), linkType: rec.linkType, tsSec: rec.tsSec, tsNsec: rec.tsNsec, origLen: rec.origLen });
    };
  });
  await receiver.start();
  open.receivers.push(receiver);
  return { receiver, delivered, logLines, sinks };
}

async function client(port: number, ca?: string) {
  const c = await TestMirrorClient.connect(port, ca);
  open.clients.push(c);
  return c;
}

/** Packets whose bytes are a tag text (the receiver does not parse them; the pipeline would). */
function packets(tag: string, n = 2): Packet[] {
  return Array.from({ length: n }, (_, i) => ({ linkType: 1, tsSec: 1_764_000_000 + i, tsNsec: 123_456_789, origLen: 200, data: new TextEncoder().encode(`${tag}/${i}`) }));
}

const tags = (d: Delivered[], sensorId?: string) => d.filter((x) => sensorId === undefined || x.sensor.id === sensorId).map((x) => x.tag);

describe('mirror receiver: handshake and stream', () => {
  it('authenticates a sender, delivers its batches in order (deflate, brotli, none, zstd, lz4) with their times and link types, and acks cumulatively', async () => {
    const { receiver, delivered, sinks } = await startReceiver();
    const c = await client(receiver.port);
    const result = await c.handshake(SECRET, { sensorId: 'pbx-1', sensorName: 'PBX one', nextSequence: 1 });
    expect(result).toMatchObject({ ok: true, ackedSequence: 0 });
    c.sendBatch(1, packets('a'), Compression.COMPRESSION_DEFLATE);
    c.sendBatch(2, packets('b'), Compression.COMPRESSION_BROTLI);
    c.sendBatch(3, packets('c'), Compression.COMPRESSION_NONE);
    c.sendBatch(4, packets('d'), Compression.COMPRESSION_ZSTD);
    c.sendBatch(5, packets('e'), Compression.COMPRESSION_LZ4);
    await c.until(() => c.acked === 5, 5000, 'ack 5');
    expect(tags(delivered)).toEqual(['a/0', 'a/1', 'b/0', 'b/1', 'c/0', 'c/1', 'd/0', 'd/1', 'e/0', 'e/1']);
    expect(delivered[1]).toMatchObject({ linkType: 1, tsSec: 1_764_000_001, tsNsec: 123_456_789, origLen: 200 });
    expect(sinks).toEqual([{ id: 'pbx-1', name: 'PBX one' }]);
    const [sensor, listener] = receiver.sourceStats();
    expect(sensor).toMatchObject({ kind: 'mirror', role: 'sender', name: 'pbx-1', sensor_name: 'PBX one', state: 'connected', received: 10, batches: 5, duplicates_dropped: 0, lost: 0, acked_sequence: 5, connections: 1, auth_failures: 0 });
    expect(sensor!['bytes_raw']).toBe(30); // ten packets of 3 captured bytes, as the sender counts them
    expect(sensor!['bytes_compressed']).toBeGreaterThan(0);
    expect(listener).toMatchObject({ kind: 'mirror', role: 'listener', connections_open: 1, auth_failures: 0, sensors: 1 });
    await c.close();
    await c.until(() => receiver.sourceStats()[0]!['state'] === 'disconnected', 2000, 'disconnected');
  });

  /** RTP-like Ethernet/IPv4/UDP frames of two flows with a tag as payload: flow-context packets. */
  function rtpPackets(tag: string, from: number, n: number): Packet[] {
    return Array.from({ length: n }, (_, k) => {
      const i = from + k;
      const payload = new TextEncoder().encode(`${tag}/${i}`);
      const d = new Uint8Array(14 + 20 + 8 + 12 + payload.length);
      const v = new DataView(d.buffer);
      v.setUint16(12, 0x0800);
      d[14] = 0x45;
      v.setUint16(16, d.length - 14);
      v.setUint16(18, i);
      d[22] = 64;
      d[23] = 17;
      d.set([10, 0, 0, 1, 10, 0, 0, 2 + (i % 2)], 26);
      v.setUint16(34, 4000);
      v.setUint16(36, 5000 + (i % 2));
      v.setUint16(38, d.length - 34);
      d[42] = 0x80;
      d[43] = 8;
      v.setUint16(44, i);
      v.setUint32(46, i * 160);
      v.setUint32(50, 0x1234 + (i % 2));
      d.set(payload, 54);
      return { linkType: 1, tsSec: 1_764_000_000, tsNsec: i * 20_000_000, origLen: d.length, data: d };
    });
  }
  const rtpTags = (d: Delivered[]) => d.map((x) => x.tag.slice(54));

  it('version 2: negotiates min(ours, offered), decodes flow blocks (zstd, lz4, none) through the connection\'s context', async () => {
    const { receiver, delivered } = await startReceiver();
    const c = await client(receiver.port);
    expect(await c.handshake(SECRET, { sensorId: 'v2', protocolVersion: 2 })).toMatchObject({ ok: true });
    expect(c.received.find((e) => e.body === 'challenge')?.challenge?.protocolVersion).toBe(2);
    c.sendFlowBatch(1, rtpPackets('x', 0, 4), Compression.COMPRESSION_ZSTD);
    c.sendFlowBatch(2, rtpPackets('x', 4, 4), Compression.COMPRESSION_LZ4);
    c.sendFlowBatch(3, rtpPackets('x', 8, 4), Compression.COMPRESSION_NONE);
    await c.until(() => c.acked === 3, 5000, 'ack 3');
    expect(rtpTags(delivered)).toEqual(Array.from({ length: 12 }, (_, i) => `x/${i}`));
    expect(delivered[5]).toMatchObject({ linkType: 1, tsSec: 1_764_000_000, tsNsec: 100_000_000, origLen: 54 + 3 });
    // Only the first packet of each flow carried its header whole.
    expect(c.flow.stats).toEqual({ literal: 0, newFlow: 2, delta: 10 });
    // A newer sender (version 4) is answered with 3.
    const newer = await client(receiver.port);
    expect(await newer.handshake(SECRET, { sensorId: 'v4', protocolVersion: 4 })).toMatchObject({ ok: true });
    expect(newer.received.find((e) => e.body === 'challenge')?.challenge?.protocolVersion).toBe(3);
  });

  /** A flow block of `packets` from `c`'s flow context as version 3 sends it: two zstd frames (header sections, payload section). */
  function zstdSplitBlock(c: TestMirrorClient, packets: Packet[]): Uint8Array[] {
    const raw = createRawBatch(packets.length, 0);
    for (const p of packets) appendRawPacket(raw, p.linkType ?? 0, p.tsSec ?? 0, p.tsNsec ?? 0, p.origLen ?? 0, p.data ?? new Uint8Array(0));
    const block = c.flow.encode(raw);
    return compressZstdSplit(block, c.flow.payloadOffset);
  }

  it('version 3: a zstd flow block in two frames (header sections, payload section) is decoded; one frame still is', async () => {
    const { receiver, delivered } = await startReceiver();
    const c = await client(receiver.port);
    expect(await c.handshake(SECRET, { sensorId: 'v3', protocolVersion: 3 })).toMatchObject({ ok: true });
    expect(c.received.find((e) => e.body === 'challenge')?.challenge?.protocolVersion).toBe(3);
    const parts = zstdSplitBlock(c, rtpPackets('z', 0, 4));
    expect(parts).toHaveLength(2);
    c.send({ batch: { sequence: 1, compression: Compression.COMPRESSION_ZSTD, block: Buffer.concat(parts) } });
    c.sendFlowBatch(2, rtpPackets('z', 4, 4), Compression.COMPRESSION_ZSTD);
    c.sendFlowBatch(3, rtpPackets('z', 8, 4), Compression.COMPRESSION_LZ4);
    await c.until(() => c.acked === 3, 5000, 'ack 3');
    expect(rtpTags(delivered)).toEqual(Array.from({ length: 12 }, (_, i) => `z/${i}`));
    expect(receiver.stats()).toMatchObject({ bad_decompress: 0, bad_flow_block: 0 });
  });

  it.each<[string, number, (parts: Uint8Array[]) => Uint8Array]>([
    ['two frames on a version 2 connection', 2, (parts) => Buffer.concat(parts)],
    ['three frames on a version 3 connection', 3, (parts) => Buffer.concat([...parts, parts[1]!])],
    ['a truncated second frame', 3, (parts) => Buffer.concat(parts).subarray(0, -2)],
    ['garbage after the first frame', 3, (parts) => Buffer.concat([parts[0]!, Buffer.from('garbage!')])],
  ])('refuses %s: the connection ends, counted (bad_decompress), a good sender streams on', async (_name, version, mangle) => {
    const { receiver, delivered } = await startReceiver();
    const good = await client(receiver.port);
    expect(await good.handshake(SECRET, { sensorId: 'good', protocolVersion: 3 })).toMatchObject({ ok: true });
    const bad = await client(receiver.port);
    expect(await bad.handshake(SECRET, { sensorId: 'bad', protocolVersion: version })).toMatchObject({ ok: true });
    bad.send({ batch: { sequence: 1, compression: Compression.COMPRESSION_ZSTD, block: mangle(zstdSplitBlock(bad, rtpPackets('b', 0, 4))) } });
    await bad.closedPromise;
    expect(receiver.stats().bad_decompress).toBe(1);
    good.send({ batch: { sequence: 1, compression: Compression.COMPRESSION_ZSTD, block: Buffer.concat(zstdSplitBlock(good, rtpPackets('g', 0, 2))) } });
    await good.until(() => good.acked === 1, 5000, 'good ack 1');
    expect(rtpTags(delivered)).toEqual(['g/0', 'g/1']);
  });

  it('version 2: a resend on a new connection is decoded against that connection\'s fresh context; duplicates still advance the context', async () => {
    const { receiver, delivered } = await startReceiver();
    const first = await client(receiver.port);
    expect(await first.handshake(SECRET, { sensorId: 'v2r', protocolVersion: 2 })).toMatchObject({ ok: true });
    first.sendFlowBatch(1, rtpPackets('r', 0, 3));
    first.sendFlowBatch(2, rtpPackets('r', 3, 3));
    await first.until(() => first.acked === 2, 5000, 'ack 2');
    first.destroy();
    await first.closedPromise;
    // The sender missed the acks: it resends 1 and 2 re-encoded from an empty context, then 3.
    const second = await client(receiver.port);
    expect(await second.handshake(SECRET, { sensorId: 'v2r', protocolVersion: 2, nextSequence: 1 })).toMatchObject({ ok: true, ackedSequence: 2 });
    second.sendFlowBatch(1, rtpPackets('r', 0, 3));
    second.sendFlowBatch(2, rtpPackets('r', 3, 3));
    second.sendFlowBatch(3, rtpPackets('r', 6, 3));
    await second.until(() => second.acked === 3, 5000, 'ack 3');
    expect(rtpTags(delivered)).toEqual(Array.from({ length: 9 }, (_, i) => `r/${i}`));
    // Batch 3 is all deltas: it decoded only because the duplicates 1 and 2 were decoded too.
    expect(receiver.sourceStats()[0]).toMatchObject({ batches: 3, duplicates_dropped: 2, lost: 0 });
    expect(receiver.stats().bad_flow_block).toBe(0);
  });

  it('a version 1 sender still streams to this receiver (PacketList batches), and a v2 block on a v1 connection is refused', async () => {
    const { receiver, delivered } = await startReceiver();
    const c = await client(receiver.port);
    expect(await c.handshake(SECRET, { sensorId: 'v1', protocolVersion: 1 })).toMatchObject({ ok: true });
    expect(c.received.find((e) => e.body === 'challenge')?.challenge?.protocolVersion).toBe(1);
    c.sendBatch(1, packets('old'), Compression.COMPRESSION_ZSTD);
    await c.until(() => c.acked === 1, 5000, 'ack 1');
    expect(tags(delivered)).toEqual(['old/0', 'old/1']);
    c.sendFlowBatch(2, rtpPackets('y', 0, 2));
    await c.closedPromise;
    expect(receiver.stats().bad_batch).toBe(1);
  });

  it('refuses a wrong secret and a wrong protocol version, with the reason, logged and counted', async () => {
    const { receiver, logLines, delivered } = await startReceiver();
    const bad = await client(receiver.port);
    expect(await bad.handshake(WRONG, { sensorId: 'pbx-1' })).toMatchObject({ ok: false, reason: AuthFailure.AUTH_FAILURE_BAD_MAC });
    await bad.closedPromise;
    const old = await client(receiver.port);
    expect(await old.handshake(SECRET, { sensorId: 'pbx-2', protocolVersion: 0 })).toMatchObject({ ok: false, reason: AuthFailure.AUTH_FAILURE_UNSUPPORTED_VERSION });
    await old.closedPromise;
    // A batch from a refused peer never reaches the packet path.
    expect(delivered).toEqual([]);
    expect(receiver.stats()).toMatchObject({ auth_bad_mac: 1, auth_bad_version: 1, auth_failures: 2, sensors: 0 });
    expect(logLines.find((l) => l.reason === 'auth_bad_mac')?.msg).toMatch(/handshake refused: the MAC does not match: wrong shared secret/);
    expect(logLines.find((l) => l.reason === 'auth_bad_version')?.msg).toMatch(/protocol version 0/);
    // A known sensor's entry counts the refusals made in its name.
    const good = await client(receiver.port);
    expect(await good.handshake(SECRET, { sensorId: 'pbx-1' })).toMatchObject({ ok: true });
    const again = await client(receiver.port);
    expect(await again.handshake(WRONG, { sensorId: 'pbx-1' })).toMatchObject({ ok: false });
    expect(receiver.sourceStats()[0]).toMatchObject({ sensor_id: 'pbx-1', auth_failures: 1, state: 'connected' });
  });

  it('drops resent batches after a reconnect, counts the sender\'s overflow as lost, and resumes from the acked sequence', async () => {
    const { receiver, delivered } = await startReceiver();
    const first = await client(receiver.port);
    expect(await first.handshake(SECRET, { sensorId: 'sbc', nextSequence: 1 })).toMatchObject({ ok: true, ackedSequence: 0 });
    for (let s = 1; s <= 4; s++) first.sendBatch(s, packets(`s${s}`, 1));
    await first.until(() => first.acked === 4, 5000, 'ack 4');
    first.destroy();
    await first.closedPromise;

    // The sender did not see the acks of 3 and 4: it still holds 3.. and resends them.
    const second = await client(receiver.port);
    expect(await second.handshake(SECRET, { sensorId: 'sbc', nextSequence: 3 })).toMatchObject({ ok: true, ackedSequence: 4 });
    for (let s = 3; s <= 6; s++) second.sendBatch(s, packets(`s${s}`, 1));
    await second.until(() => second.acked === 6, 5000, 'ack 6');
    expect(tags(delivered)).toEqual(['s1/0', 's2/0', 's3/0', 's4/0', 's5/0', 's6/0']);
    expect(receiver.sourceStats()[0]).toMatchObject({ batches: 6, duplicates_dropped: 2, lost: 0, connections: 2 });
    second.destroy();
    await second.closedPromise;

    // Its buffer overflowed while away: 7 and 8 are gone, it starts again at 9.
    const third = await client(receiver.port);
    expect(await third.handshake(SECRET, { sensorId: 'sbc', nextSequence: 9 })).toMatchObject({ ok: true, ackedSequence: 8 });
    third.sendBatch(9, packets('s9', 1));
    await third.until(() => third.acked === 9, 5000, 'ack 9');
    expect(tags(delivered).at(-1)).toBe('s9/0');
    expect(receiver.sourceStats()[0]).toMatchObject({ batches: 7, duplicates_dropped: 2, lost: 2, acked_sequence: 9 });
  });

  it('takes a restarted sender (a new stream id, sequences from 1 again) as a new stream, not as duplicates', async () => {
    const { receiver, delivered, logLines } = await startReceiver();
    const before = await client(receiver.port);
    expect(await before.handshake(SECRET, { sensorId: 'pbx-r', nextSequence: 1 })).toMatchObject({ ok: true, ackedSequence: 0 });
    for (let s = 1; s <= 5; s++) before.sendBatch(s, packets(`old${s}`, 1));
    await before.until(() => before.acked === 5, 5000, 'ack 5');
    before.destroy();
    await before.closedPromise;
    // The same sensor, a new process: its window starts at 1. Without the stream id the receiver
    // (which remembers acked 5) would have dropped 1..5 of the new stream as duplicates.
    const after = await client(receiver.port);
    expect(await after.handshake(SECRET, { sensorId: 'pbx-r', nextSequence: 1, streamId: new Uint8Array(16).fill(7) })).toMatchObject({ ok: true, ackedSequence: 0 });
    for (let s = 1; s <= 3; s++) after.sendBatch(s, packets(`new${s}`, 1));
    await after.until(() => after.acked === 3, 5000, 'ack 3');
    expect(tags(delivered, 'pbx-r')).toEqual(['old1/0', 'old2/0', 'old3/0', 'old4/0', 'old5/0', 'new1/0', 'new2/0', 'new3/0']);
    expect(receiver.sourceStats()[0]).toMatchObject({ batches: 8, duplicates_dropped: 0, lost: 0, restarts: 1, acked_sequence: 3 });
    expect(logLines.some((l) => /sender restarted/.test(l.msg))).toBe(true);
  });

  it('accepts a Hello whose uint64 fields are zero (absent on the wire, decoded as Long by protobufjs) without an internal error', async () => {
    const { receiver } = await startReceiver();
    const c = await client(receiver.port);
    expect(await c.handshake(SECRET, { sensorId: 'zero', clockSec: 0, nextSequence: 0 })).toMatchObject({ ok: true, ackedSequence: 0 });
    c.sendBatch(1, [{ linkType: 1, tsSec: 0, tsNsec: 5, data: Uint8Array.of(1, 2, 3) }]);
    await c.until(() => c.acked === 1);
    expect(receiver.stats().internal_errors).toBe(0);
    expect(receiver.sourceStats()[0]).toMatchObject({ received: 1, batches: 1 });
  });

  it('sends heartbeats, and takes the sender\'s heartbeats and messages of a newer version without closing', async () => {
    const { receiver } = await startReceiver({ heartbeatMs: 100 });
    const c = await client(receiver.port);
    await c.handshake(SECRET, { sensorId: 'hb' });
    c.send({ heartbeat: { clockSec: 1, clockNsec: 2 } });
    // Field 15 of the envelope, unknown to this version: a newer sender's message.
    c.sendRaw(Uint8Array.of(0, 0, 0, 2, 0x7a, 0x00));
    await c.until(() => c.received.filter((e) => e.body === 'heartbeat').length >= 2, 3000, 'two heartbeats');
    c.sendBatch(1, packets('after', 1));
    await c.until(() => c.acked === 1);
    expect(c.closed).toBe(false);
    expect(receiver.stats()).toMatchObject({ unknown_messages: 1, bad_malformed: 0 });
  });

  it('keeps several senders apart, and a newer connection of a sensor replaces its older one', async () => {
    const { receiver, delivered } = await startReceiver();
    const a = await client(receiver.port);
    const b = await client(receiver.port);
    await a.handshake(SECRET, { sensorId: 'a', nextSequence: 1 });
    await b.handshake(SECRET, { sensorId: 'b', sensorName: 'Bee', nextSequence: 100 });
    a.sendBatch(1, packets('a1', 1));
    b.sendBatch(100, packets('b100', 1));
    await a.until(() => a.acked === 1);
    await b.until(() => b.acked === 100);
    const a2 = await client(receiver.port);
    expect(await a2.handshake(SECRET, { sensorId: 'a', nextSequence: 2 })).toMatchObject({ ok: true, ackedSequence: 1 });
    await a.closedPromise;
    expect(tags(delivered, 'a')).toEqual(['a1/0']);
    expect(tags(delivered, 'b')).toEqual(['b100/0']);
    expect(delivered.find((d) => d.sensor.id === 'b')?.sensor.name).toBe('Bee');
    expect(receiver.stats()).toMatchObject({ replaced_closed: 1, connections_open: 2 });
    expect(receiver.sourceStats().map((s) => s.name)).toEqual(['a', 'b', `127.0.0.1:${receiver.port}`]);
  });

  it('speaks TLS when given a certificate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'callscope-mirror-tls-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
      const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
      const { receiver, delivered } = await startReceiver({ tls: { cert, key: readFileSync(join(dir, 'key.pem'), 'utf8') } });
      const c = await client(receiver.port, cert);
      expect(await c.handshake(SECRET, { sensorId: 'tls-1' })).toMatchObject({ ok: true });
      c.sendBatch(1, packets('t', 1));
      await c.until(() => c.acked === 1);
      expect(tags(delivered)).toEqual(['t/0']);
      expect(receiver.stats()).toMatchObject({ tls: true });
      // Plain TCP against the TLS port: a TLS error, counted; the listener goes on.
      const plain = await client(receiver.port);
      plain.send({ hello: { sensorId: 'x' } });
      await plain.closedPromise;
      await c.until(() => receiver.stats().tls_errors === 1, 3000, 'tls error counted');

      // TLS handshakes in progress count against the cap: two idle raw sockets fill it.
      const capped = (await startReceiver({ tls: { cert, key: readFileSync(join(dir, 'key.pem'), 'utf8') }, maxConnections: 2 })).receiver;
      const idle = [connect({ host: '127.0.0.1', port: capped.port }), connect({ host: '127.0.0.1', port: capped.port })];
      for (const s of idle) s.on('error', () => undefined);
      await new Promise((r) => setTimeout(r, 100));
      const third = connect({ host: '127.0.0.1', port: capped.port });
      third.on('error', () => undefined);
      await new Promise<void>((resolve) => third.on('close', () => { resolve(); }));
      expect(capped.stats().connections_refused).toBe(1);
      for (const s of idle) s.destroy();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('mirror receiver: hostile peers end only their own connection', () => {
  /** A good sender streaming a batch every 10 ms until stopped; every batch must arrive once, in order. */
  async function goodSender(port: number) {
    const c = await client(port);
    expect(await c.handshake(SECRET, { sensorId: 'good', nextSequence: 1 })).toMatchObject({ ok: true });
    let seq = 0;
    const timer = setInterval(() => {
      seq++;
      c.sendBatch(seq, packets(`g${seq}`, 1));
    }, 10);
    return {
      async finish(delivered: Delivered[]) {
        // Streaming all along: at least ten batches sent (a loaded machine stretches the 10 ms timer).
        await c.until(() => seq > 10, 10_000, 'ten good batches sent');
        clearInterval(timer);
        await c.until(() => c.acked === seq, 5000, `good sender ack ${seq}`);
        expect(c.closed).toBe(false);
        expect(seq).toBeGreaterThan(10);
        expect(tags(delivered, 'good')).toEqual(Array.from({ length: seq }, (_, i) => `g${i + 1}/0`));
      },
    };
  }

  const cases: { name: string; counter: string; log: RegExp; options?: Partial<MirrorReceiverOptions>; act: (port: number) => Promise<void> }[] = [
    {
      name: 'garbage bytes',
      counter: 'bad_malformed',
      log: /not a protobuf Envelope: connection closed/,
      act: async (port) => {
        const c = await client(port);
        c.sendRaw(Buffer.concat([Buffer.from([0, 0, 0, 16]), Buffer.alloc(16, 0xff)]));
        await c.closedPromise;
      },
    },
    {
      name: 'a frame claiming 4 GiB',
      counter: 'bad_too_large',
      log: /frame length 4294967295 above the 16777216-byte bound: connection closed/,
      act: async (port) => {
        const c = await client(port);
        await c.handshake(SECRET, { sensorId: 'liar' });
        c.sendRaw(Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]));
        await c.closedPromise;
      },
    },
    {
      name: 'a truncated frame',
      counter: 'bad_truncated_at_close',
      log: /sender disconnected/,
      act: async (port) => {
        const c = await client(port);
        await c.handshake(SECRET, { sensorId: 'cut' });
        const frame = encodeFrame({ batch: { sequence: 1, compression: Compression.COMPRESSION_NONE, packets: packets('cut', 3) } });
        c.sendRaw(frame.subarray(0, frame.length - 5));
        await new Promise((r) => setTimeout(r, 100));
        await c.close();
      },
    },
    {
      name: 'a decompression bomb',
      counter: 'bad_decompress_oversize',
      log: /decompresses to more than 1048576 bytes \(decompression bomb\?\): connection closed/,
      options: { maxBatchBytes: 1 << 20 },
      act: async (port) => {
        const c = await client(port);
        await c.handshake(SECRET, { sensorId: 'bomb' });
        // 64 MiB of zeros deflate to about 64 KiB.
        const bomb = deflateSync(Buffer.alloc(64 << 20), { level: 9 });
        c.send({ batch: { sequence: 1, compression: Compression.COMPRESSION_DEFLATE, compressedPackets: bomb } });
        await c.closedPromise;
        expect(c.acked).toBe(0);
      },
    },
    {
      name: 'a brotli decompression bomb',
      counter: 'bad_decompress_oversize',
      log: /decompresses to more than 1048576 bytes/,
      options: { maxBatchBytes: 1 << 20 },
      act: async (port) => {
        const c = await client(port);
        await c.handshake(SECRET, { sensorId: 'bomb-br' });
        const bomb = brotliCompressSync(Buffer.alloc(32 << 20));
        c.send({ batch: { sequence: 1, compression: Compression.COMPRESSION_BROTLI, compressedPackets: bomb } });
        await c.closedPromise;
      },
    },
    {
      name: 'a zstd decompression bomb (refused by its declared content size, before decoding)',
      counter: 'bad_decompress_oversize',
      log: /decompresses to more than 1048576 bytes/,
      options: { maxBatchBytes: 1 << 20 },
      act: async (port) => {
        const c = await client(port);
        await c.handshake(SECRET, { sensorId: 'bomb-zstd' });
        const bomb = compressBatch(Compression.COMPRESSION_ZSTD, Buffer.alloc(32 << 20));
        c.send({ batch: { sequence: 1, compression: Compression.COMPRESSION_ZSTD, compressedPackets: bomb } });
        await c.closedPromise;
        expect(c.acked).toBe(0);
      },
    },
    {
      name: 'an lz4 block whose size prefix claims 3 GiB (lz4-napi would allocate it)',
      counter: 'bad_decompress_oversize',
      log: /decompresses to more than 1048576 bytes/,
      options: { maxBatchBytes: 1 << 20 },
      act: async (port) => {
        const c = await client(port);
        await c.handshake(SECRET, { sensorId: 'bomb-lz4' });
        const bomb = Buffer.from(compressBatch(Compression.COMPRESSION_LZ4, Buffer.alloc(1000)));
        bomb.writeUInt32LE(0xc000_0000, 0);
        c.send({ batch: { sequence: 1, compression: Compression.COMPRESSION_LZ4, compressedPackets: bomb } });
        await c.closedPromise;
        expect(c.acked).toBe(0);
      },
    },
    {
      name: 'a batch that does not decompress',
      counter: 'bad_decompress',
      log: /a batch that does not decompress: connection closed/,
      act: async (port) => {
        const c = await client(port);
        await c.handshake(SECRET, { sensorId: 'corrupt' });
        c.send({ batch: { sequence: 1, compression: Compression.COMPRESSION_DEFLATE, compressedPackets: Buffer.from('not zlib at all') } });
        await c.closedPromise;
        expect(c.acked).toBe(0);
      },
    },
    {
      name: 'a version 2 flow block with a byte flipped (a flow index pointing at no context)',
      counter: 'bad_flow_block',
      log: /a version 2 batch whose flow block does not decode \(UnknownFlow; the flow context is lost\): connection closed/,
      act: async (port) => {
        const c = await client(port);
        await c.handshake(SECRET, { sensorId: 'v2-corrupt', protocolVersion: 2 });
        // An Ethernet frame that is not a flow packet: one literal. Its flow tag 0 becomes 4 * 7 + 2,
        // a delta against table entry 7, which holds nothing on a fresh connection.
        const frame = { linkType: 1, tsSec: 1, tsNsec: 0, origLen: 60, data: new Uint8Array(60) };
        c.sendFlowBatch(1, [frame], Compression.COMPRESSION_ZSTD, (block) => {
          // Header: count, five section lengths (one byte each here); meta 3 bytes, time 3 bytes.
          const flowAt = 6 + block[1]! + block[2]!;
          block[flowAt] = 4 * 7 + 2;
          return block;
        });
        await c.closedPromise;
        expect(c.acked).toBe(0);
      },
    },
    {
      name: 'a batch with both raw and compressed packets',
      counter: 'bad_batch',
      log: /an invalid batch \(MixedPayload\)/,
      act: async (port) => {
        const c = await client(port);
        await c.handshake(SECRET, { sensorId: 'mixed' });
        c.send({ batch: { sequence: 1, compression: Compression.COMPRESSION_DEFLATE, packets: packets('m', 1), compressedPackets: deflateSync(Buffer.from('x')) } });
        await c.closedPromise;
      },
    },
    {
      name: 'a slowloris that never finishes the handshake',
      counter: 'handshake_timeout_closed',
      log: /handshake not done in time/,
      options: { handshakeTimeoutMs: 300 },
      act: async (port) => {
        const c = await client(port);
        c.sendRaw(Buffer.from([0, 0]));
        await c.closedPromise;
      },
    },
    {
      name: 'a slowloris trickling a frame after the handshake',
      counter: 'slow_closed',
      log: /frame not complete within the idle timeout/,
      options: { idleTimeoutMs: 400 },
      act: async (port) => {
        const c = await client(port);
        await c.handshake(SECRET, { sensorId: 'slow' });
        const frame = encodeFrame({ batch: { sequence: 1, compression: Compression.COMPRESSION_NONE, packets: packets('slow', 3) } });
        for (let i = 0; i < frame.length && !c.closed; i++) {
          c.sendRaw(frame.subarray(i, i + 1));
          await new Promise((r) => setTimeout(r, 150));
        }
        await c.closedPromise;
      },
    },
    {
      name: 'a silent authenticated connection',
      counter: 'idle_closed',
      log: /sender silent for too long/,
      options: { idleTimeoutMs: 400 },
      act: async (port) => {
        const c = await client(port);
        await c.handshake(SECRET, { sensorId: 'quiet' });
        await c.closedPromise;
      },
    },
    {
      name: 'too many connections',
      counter: 'connections_refused',
      log: /connection refused, too many open/,
      options: { maxConnections: 3 },
      act: async (port) => {
        // The good sender holds one; two more fill the cap; the next is refused.
        const held = [await client(port), await client(port)];
        const extra = connect({ host: '127.0.0.1', port });
        extra.on('error', () => undefined);
        await new Promise<void>((resolve) => extra.on('close', () => { resolve(); }));
        for (const h of held) h.destroy();
      },
    },
    {
      name: 'a message other than Hello first',
      counter: 'auth_protocol_error',
      log: /expected Hello, got batch/,
      act: async (port) => {
        const c = await client(port);
        c.sendBatch(1, packets('early', 1));
        await c.closedPromise;
        expect(c.received[0]?.authResult).toMatchObject({ ok: false, reason: AuthFailure.AUTH_FAILURE_PROTOCOL_ERROR });
      },
    },
    {
      name: 'a flood of bytes before authentication',
      counter: 'handshake_oversize',
      log: /more than 65536 bytes before authentication/,
      act: async (port) => {
        const c = await client(port);
        c.sendRaw(Buffer.concat([Buffer.from([0, 0x10, 0, 0]), Buffer.alloc(70_000, 1)]));
        await c.closedPromise;
      },
    },
  ];

  for (const k of cases) {
    it(`${k.name}: counted (${k.counter}), logged, connection closed; the good sender streams on`, async () => {
      const { receiver, delivered, logLines } = await startReceiver(k.options);
      const good = await goodSender(receiver.port);
      await new Promise((r) => setTimeout(r, 50));
      await k.act(receiver.port);
      await new Promise((r) => setTimeout(r, 100));
      await good.finish(delivered);
      const stats = receiver.stats() as unknown as Record<string, number>;
      expect(stats[k.counter]).toBeGreaterThanOrEqual(1);
      expect(logLines.some((l) => k.log.test(l.msg))).toBe(true);
      expect(stats['internal_errors']).toBe(0);
      expect(tags(delivered).every((t) => t.startsWith('g'))).toBe(true);
    }, 20_000);
  }
});
