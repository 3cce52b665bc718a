/**
 * Issue 11: a new kind of source plugs into the engine without touching engine code. The engine's
 * input is one method, `PacketPipeline.onPacket(record)`; a source is anything that yields
 * `PacketRecord`s. Here two sources the engine has never seen, frames held in memory, feed one
 * engine at once: one yields a call's SIP (and whatever else is not its media) as captured on Ethernet, the other its RTP as raw IP
 * frames (as a mirror or a tunnel endpoint would hand them over, another link type). Merged by
 * time, they must give exactly the records of the original capture read as one file.
 */
import { LinkType, type PacketRecord } from '@callscope/pcap-format';
import { readCorpusRecords } from '@callscope/testing';
import { describe, expect, test } from 'vitest';
import { DEFAULT_PIPELINE_OPTIONS, PacketPipeline, type RecordObserver } from '../src/index.js';

/** A source as an app would write one: frames from wherever, yielded one by one. */
interface FrameSource {
  readonly name: string;
  frames(): Iterable<PacketRecord>;
}

/** Frames already in memory (a test's capture, a replay buffer). */
function memorySource(name: string, records: readonly PacketRecord[]): FrameSource {
  return {
    name,
    *frames() {
      yield* records;
    },
  };
}

/** Merges sources by capture time into one engine, as a daemon with several inputs does. */
function feedMerged(engine: PacketPipeline, sources: readonly FrameSource[]): void {
  const its = sources.map((s) => s.frames()[Symbol.iterator]());
  const heads = its.map((it) => it.next());
  for (;;) {
    let best = -1;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i]!;
      if (h.done === true) continue;
      const b = best < 0 ? null : heads[best]!;
      if (b === null || b.done === true || h.value.tsSec < b.value.tsSec || (h.value.tsSec === b.value.tsSec && h.value.tsNsec < b.value.tsNsec)) best = i;
    }
    if (best < 0) return;
    engine.onPacket((heads[best] as IteratorYieldResult<PacketRecord>).value);
    heads[best] = its[best]!.next();
  }
}

function collect(): { lines: string[]; observer: RecordObserver } {
  const lines: string[] = [];
  return { lines, observer: { onCall: (r) => lines.push(JSON.stringify(r)), onRegister: (r) => lines.push(JSON.stringify(r)) } };
}

const ETHERNET_HEADER = 14;
/** An Ethernet frame carrying IPv4 UDP that is not SIP's port: the call's media. */
const isMedia = (r: PacketRecord) => {
  if (r.data[12] !== 0x08 || r.data[13] !== 0x00 || r.data[ETHERNET_HEADER + 9] !== 17) return false;
  const udp = ETHERNET_HEADER + (r.data[ETHERNET_HEADER]! & 0x0f) * 4;
  const src = (r.data[udp]! << 8) | r.data[udp + 1]!;
  const dst = (r.data[udp + 2]! << 8) | r.data[udp + 3]!;
  return src !== 5060 && dst !== 5060;
};
/** The same packet as a raw IP frame: the Ethernet header gone, another link type. */
const asRawIp = (r: PacketRecord): PacketRecord => ({
  ...r,
  linkType: LinkType.Raw,
  data: r.data.slice(ETHERNET_HEADER),
  capLen: r.capLen - ETHERNET_HEADER,
  origLen: r.origLen - ETHERNET_HEADER,
});

describe('a new source plugs into the engine', () => {
  test.each(['basic-caller-bye-pcma.pcap', 'dtmf-rfc2833.pcap', 'rtp-loss-1pct.pcap'])('%s: SIP on Ethernet and RTP as raw IP from two memory sources', (file) => {
    const records = readCorpusRecords(file);
    expect(records.every((r) => r.linkType === LinkType.Ethernet)).toBe(true);

    const whole = collect();
    const reference = new PacketPipeline(DEFAULT_PIPELINE_OPTIONS, whole.observer);
    for (const r of records) reference.onPacket(r);
    reference.finish();

    const mixed = collect();
    const engine = new PacketPipeline(DEFAULT_PIPELINE_OPTIONS, mixed.observer);
    const sip = records.filter((r) => !isMedia(r));
    const media = records.filter(isMedia).map(asRawIp);
    expect(sip.length).toBeGreaterThan(0);
    expect(media.length).toBeGreaterThan(100);
    feedMerged(engine, [memorySource('sip-on-ethernet', sip), memorySource('rtp-as-raw-ip', media)]);
    engine.finish();

    expect(mixed.lines.length).toBeGreaterThan(0);
    expect(mixed.lines).toEqual(whole.lines);
    const calls = mixed.lines.map((l) => JSON.parse(l) as { type: string; streams?: { packets: number }[] }).filter((r) => r.type === 'call');
    expect(calls.flatMap((c) => c.streams ?? []).reduce((n, s) => n + s.packets, 0)).toBeGreaterThan(100);
    expect(engine.counters.packets).toBe(records.length);
  });
});
