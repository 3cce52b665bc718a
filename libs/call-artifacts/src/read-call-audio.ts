import { Readable } from 'node:stream';
import { formatIp, type DecodedPacket } from '@callscope/packet';
import {
  AudioLeg,
  AudioLegsLayout,
  CODEC_NAMES,
  CallAudioRenderer,
  Codec,
  assertAudioDecodable,
  isDecodableAudio,
  opusPacketSamples,
  type PayloadTypeMap,
  type RtpHeader,
} from '@callscope/rtp';
import type { OpusAudioDecoder } from '@callscope/rtp/opus';
import { forEachCallRtp, readAnnouncements, streamMedia, type MediaSide } from './call-media.js';
import { MAX_SERIES_STREAMS } from './read-call-stream-series.js';
import type { CallArtifactQuery } from './spool-records.js';

/**
 * Longest timeline rendered, ms: the absolute call timeout (4 h). A spool whose RTP spans more
 * (a hostile or broken capture: one packet in 1970, one today) is cut there, not answered with
 * gigabytes of silence.
 */
export const MAX_CALL_AUDIO_MS = 4 * 3600 * 1000;
/**
 * Output sample rate of the call audio, Hz: G.711's 8 kHz, also for calls that carry Opus (libopus
 * decodes them straight at 8 kHz). One rate for every call keeps the timeline, the exact size and
 * the mixed layout simple; wideband playback of Opus calls would need the renderer at 16/48 kHz.
 */
export const CALL_AUDIO_SAMPLE_RATE = 8000;
/** Packet time assumed for the last packet of a leg when its payload does not say (events, CN), µs. */
const DEFAULT_PTIME_US = 20_000;

/** Why a call has no audio to render (HTTP 404 `NO_AUDIO`). */
export const NoCallAudioReason = {
  /** The spool holds no RTP file of the call (no media, or the file was deleted). */
  NoRtpFile: 'no-rtp-file',
  /** The RTP file holds no RTP packet. */
  NoRtpPackets: 'no-rtp-packets',
  /** RTP is there but no stream could be put on a leg: no SDP of the call names its addresses. */
  NoPlacedStream: 'no-placed-stream',
} as const;
/** One of the {@link NoCallAudioReason} values. */
export type NoCallAudioReason = (typeof NoCallAudioReason)[keyof typeof NoCallAudioReason];

/** The call has no audio to render; thrown before any output (`code` is stable, match on it). */
export class NoCallAudioError extends Error {
  /** Stable error code for an HTTP error catalogue. */
  readonly code = 'NO_AUDIO';
  constructor(
    readonly callId: string,
    readonly reason: NoCallAudioReason,
  ) {
    super(`call ${JSON.stringify(callId)} has no audio: ${reason}`);
    this.name = 'NoCallAudioError';
  }
}

/** Options of {@link openCallAudio}. */
export interface CallAudioOptions {
  /** Output layout (the `legs` query parameter). */
  layout: AudioLegsLayout;
  /** Playout delay / reorder window of the renderer, ms (default 500). */
  reorderWindowMs?: number;
  /** Longest timeline, ms (default and maximum {@link MAX_CALL_AUDIO_MS}). */
  maxDurationMs?: number;
}

/** One RTP stream of the call as the audio uses it. */
export interface CallAudioStream {
  /** SSRC as `0x` + 8 lowercase hex digits (as in the CDR). */
  ssrc: string;
  src: { ip: string; port: number };
  dst: { ip: string; port: number };
  /** The leg it is rendered on; null: not rendered (no SDP of the call names its addresses). */
  side: MediaSide;
  /** Payload types the stream used, and the codec name of the first. */
  payloadTypes: number[];
  codec: string | null;
  packets: number;
}

/** What the first pass learnt: the exact size of the WAV before any of it is sent. */
export interface CallAudioPlan {
  callId: string;
  layout: AudioLegsLayout;
  channels: 1 | 2;
  sampleRate: number;
  /** First RTP arrival of a rendered stream, µs since the epoch: sample 0. */
  originUs: number;
  /** Last rendered arrival plus its packet time (cut at the maximum duration), µs since the epoch. */
  endUs: number;
  /** Frames of audio: round((endUs − originUs) / 125). */
  frames: number;
  /** Size of the whole WAV file, header included (Content-Length). */
  wavBytes: number;
  /** The RTP spanned more than the maximum duration: the audio stops there. */
  durationCapped: boolean;
  /** The spool holds no SIP file: no SDP, so no stream has a side (the call then has no audio). */
  sipMissing: boolean;
  streams: CallAudioStream[];
  /** RTP packets of streams past the stream cap (64), not rendered. */
  untrackedPackets: number;
  /** UDP records of the RTP file that were neither RTP nor RTCP, or did not decode. */
  skippedPackets: number;
  /** Spool files that ended inside a record: their complete records were read. */
  filesTruncated: { path: string; code: string }[];
}

/** Counters of one leg after rendering (libs/rtp `AudioStreamRenderer`). */
export interface CallAudioLegCounters {
  packets: number;
  late: number;
  reordered: number;
  duplicates: number;
  restarts: number;
  telephoneEvents: number;
  comfortNoise: number;
  unsupported: number;
  /** Opus payloads that did not parse or decode (silence). */
  undecodable: number;
  clippedSamples: number;
}

/** What the render did. */
export interface CallAudioSummary {
  /** Bytes handed to the sink, header included (equals the plan's `wavBytes`). */
  bytes: number;
  caller: CallAudioLegCounters;
  callee: CallAudioLegCounters;
}

/**
 * Receives the WAV in order: first the 44-byte header, then PCM chunks (owned by the sink). A
 * returned promise pauses the spool walk until it settles (back-pressure).
 */
export type CallAudioSink = (chunk: Uint8Array) => void | Promise<void>;

/** A call's audio, planned (sizes known, codecs checked) and ready to render. */
export interface CallAudio {
  readonly plan: CallAudioPlan;
  /** Second pass: reads the RTP again and sends the WAV to `sink`. Call once. */
  render(sink: CallAudioSink): Promise<CallAudioSummary>;
  /**
   * The WAV as a Node stream (the walk is paced by the consumer's reads; destroying the stream
   * stops it and closes the spool files). Call once, instead of render.
   */
  readable(): Readable;
  /** After {@link readable}: settles when its walk ended, with the summary (null on error or abort); null before. */
  readonly done: Promise<CallAudioSummary | null> | null;
  /**
   * After {@link readable}: the most bytes its buffer held at once (measured after each chunk the
   * render pushed). The walk is paced by the reader, so this stays at most
   * {@link CALL_AUDIO_READABLE_HIGH_WATER_MARK} plus one chunk, whatever silence a gap releases.
   */
  readonly peakBufferedBytes: number;
}

/** highWaterMark of {@link CallAudio.readable}, bytes: the render pauses once its buffer holds this much. */
export const CALL_AUDIO_READABLE_HIGH_WATER_MARK = 256 * 1024;

/** A stream's state across both passes. */
interface Tracked {
  info: CallAudioStream;
  /** Payload types seen (at most 128). */
  used: Set<number>;
  leg: AudioLeg | null;
  payloadTypes: PayloadTypeMap;
  ssrc: number;
  src4: number;
  dst4: number;
  srcPort: number;
  dstPort: number;
}

/**
 * Finds the stream of each RTP packet, (SSRC, source, destination) as in the CDR; consecutive
 * packets mostly belong to the same stream, so IPv4 ones are compared as numbers, no key built.
 */
class StreamIndex {
  readonly byKey = new Map<string, Tracked>();
  private last: Tracked | null = null;
  untracked = 0;

  constructor(private readonly create: (p: DecodedPacket, h: RtpHeader, srcIp: string, dstIp: string) => Tracked) {}

  /** The packet's stream; created on its first packet when `create` (no closure per packet); null past the cap or unknown. */
  find(p: DecodedPacket, h: RtpHeader, create: boolean): Tracked | null {
    const l = this.last;
    if (l !== null && p.ipVersion === 4 && l.ssrc === h.ssrc && l.src4 === p.src4 && l.dst4 === p.dst4 && l.srcPort === p.srcPort && l.dstPort === p.dstPort) return l;
    const srcIp = formatIp(p.ipVersion, p.src4, p.src6);
    const dstIp = formatIp(p.ipVersion, p.dst4, p.dst6);
    const key = `${h.ssrc} ${srcIp} ${p.srcPort} ${dstIp} ${p.dstPort}`;
    let t = this.byKey.get(key) ?? null;
    if (t === null && create) {
      if (this.byKey.size >= MAX_SERIES_STREAMS) {
        this.untracked++;
        return null;
      }
      t = this.create(p, h, srcIp, dstIp);
      this.byKey.set(key, t);
    }
    this.last = t !== null && p.ipVersion === 4 ? t : null;
    return t;
  }
}

const arrivalUsOf = (tsSec: number, tsNsec: number): number => tsSec * 1_000_000 + Math.floor(tsNsec / 1000);

/**
 * Plans a call's audio from its spool (first pass): the SDP in the call's SIP gives each RTP
 * stream its leg (caller / callee) and payload types; one walk over the RTP gives the streams,
 * the payload types they use and the timeline (first rendered arrival to the last plus its
 * packet time, at most `maxDurationMs`), so the WAV's size is exact before a byte is sent.
 * Memory: one record and one small object per stream (at most 64), never the packets.
 *
 * Playout (jitter buffer, loss, gaps, events, restarts) is libs/rtp `CallAudioRenderer`'s; see
 * its README ("Call audio"). Two streams at once on one leg would restart each other there.
 *
 * @throws NoCallAudioError (`NO_AUDIO`) when there is no RTP file, no RTP packet, or no stream on a leg
 * @throws UnsupportedCodecError (libs/rtp, `UNSUPPORTED_CODEC`) when a rendered stream uses a
 *   codec without a decoder (anything but PCMU / PCMA, Opus, telephone-event and CN)
 * @throws SpoolError `CorruptFile` when a file is not a readable capture
 */
export async function openCallAudio(spoolDir: string, query: CallArtifactQuery, options: CallAudioOptions): Promise<CallAudio> {
  const { layout } = options;
  if (!Object.values(AudioLegsLayout).includes(layout)) throw new RangeError(`layout ${layout} invalid`);
  const maxMs = options.maxDurationMs ?? MAX_CALL_AUDIO_MS;
  if (!(Number.isFinite(maxMs) && maxMs > 0 && maxMs <= MAX_CALL_AUDIO_MS)) throw new RangeError(`maxDurationMs ${maxMs} outside (0, ${MAX_CALL_AUDIO_MS}]`);

  const announced = await readAnnouncements(spoolDir, query);
  const counters = { skippedPackets: 0 };
  let originUs = Infinity;
  let endUs = -Infinity;
  let rtpPackets = 0;
  const index = new StreamIndex((p, h, srcIp, dstIp): Tracked => {
    const { side, payloadTypes } = streamMedia(announced, srcIp, p.srcPort, dstIp, p.dstPort);
    const codec = payloadTypes.codec[h.payloadType]!;
    return {
      info: {
        ssrc: `0x${(h.ssrc >>> 0).toString(16).padStart(8, '0')}`,
        src: { ip: srcIp, port: p.srcPort },
        dst: { ip: dstIp, port: p.dstPort },
        side,
        payloadTypes: [],
        codec: codec === 0 ? null : (CODEC_NAMES[codec] ?? null),
        packets: 0,
      },
      used: new Set(),
      leg: side === 'caller' ? AudioLeg.Caller : side === 'callee' ? AudioLeg.Callee : null,
      payloadTypes,
      ssrc: h.ssrc,
      src4: p.src4,
      dst4: p.dst4,
      srcPort: p.srcPort,
      dstPort: p.dstPort,
    };
  });
  const issues = await forEachCallRtp(spoolDir, query, counters, (rec, p, h) => {
    rtpPackets++;
    const t = index.find(p, h, true);
    if (t === null) return;
    t.info.packets++;
    t.used.add(h.payloadType);
    if (t.leg === null) return;
    const arrivalUs = arrivalUsOf(rec.tsSec, rec.tsNsec);
    // G.711: one byte per 125 µs sample; Opus: its TOC says; other payloads (events, CN) carry no length of their own.
    const ptimeUs = !isDecodableAudio(h.payloadType, t.payloadTypes)
      ? DEFAULT_PTIME_US
      : t.payloadTypes.codec[h.payloadType & 0x7f] === Codec.Opus
        ? opusPacketSamples(p.payload, h.payloadOffset, h.payloadLength, CALL_AUDIO_SAMPLE_RATE) * 125 || DEFAULT_PTIME_US
        : h.payloadLength * 125;
    if (arrivalUs < originUs) originUs = arrivalUs;
    if (arrivalUs + ptimeUs > endUs) endUs = arrivalUs + ptimeUs;
  });
  if (issues === null) throw new NoCallAudioError(query.callId, NoCallAudioReason.NoRtpFile);
  if (rtpPackets === 0) throw new NoCallAudioError(query.callId, NoCallAudioReason.NoRtpPackets);
  const tracked = [...index.byKey.values()];
  for (const t of tracked) t.info.payloadTypes = [...t.used].sort((a, b) => a - b);
  const rendered = tracked.filter((t) => t.leg !== null);
  if (rendered.length === 0) throw new NoCallAudioError(query.callId, NoCallAudioReason.NoPlacedStream);
  // Before any output: a codec without a decoder is refused whole (HTTP 415), naming the codec.
  for (const t of rendered) assertAudioDecodable(t.info.payloadTypes, t.payloadTypes);

  const durationCapped = endUs - originUs > maxMs * 1000;
  if (durationCapped) endUs = originUs + maxMs * 1000;
  // The leg's payload types: those of its first stream (one SDP per direction in a plain call).
  const legMap = (leg: AudioLeg): PayloadTypeMap | undefined => rendered.find((t) => t.leg === leg)?.payloadTypes;
  const newRenderer = (onChunk: (pcm: Uint8Array) => void, opus: { caller: OpusAudioDecoder; callee: OpusAudioDecoder } | null = null): CallAudioRenderer => {
    const callerPayloadTypes = legMap(AudioLeg.Caller) ?? legMap(AudioLeg.Callee)!;
    return new CallAudioRenderer({ originUs, endUs, layout, callerPayloadTypes, calleePayloadTypes: legMap(AudioLeg.Callee) ?? callerPayloadTypes, reorderWindowMs: options.reorderWindowMs, opusDecoders: opus, onChunk });
  };
  // Opus decoders (libopus in WebAssembly, one per leg: they keep state) only for calls that carry Opus.
  const usesOpus = rendered.some((t) => t.info.payloadTypes.some((pt) => t.payloadTypes.codec[pt] === Codec.Opus));
  const probe = newRenderer(() => undefined);
  const plan: CallAudioPlan = {
    callId: query.callId,
    layout,
    channels: probe.channels,
    sampleRate: CALL_AUDIO_SAMPLE_RATE,
    originUs,
    endUs,
    frames: probe.totalFrames!,
    wavBytes: probe.wavHeader().length + probe.totalFrames! * probe.channels * 2,
    durationCapped,
    sipMissing: announced === null,
    streams: tracked.map((t) => t.info),
    untrackedPackets: index.untracked,
    skippedPackets: counters.skippedPackets,
    filesTruncated: issues.truncated,
  };

  let started = false;
  const render = async (sink: CallAudioSink): Promise<CallAudioSummary> => {
    if (started) throw new Error('CallAudio: render or readable called twice');
    started = true;
    let bytes = 0;
    // The sink's latest promise stands for its queue (a stream's drain covers every earlier write).
    const pending: { wait: Promise<void> | undefined } = { wait: undefined };
    const take = (): Promise<void> | undefined => {
      const w = pending.wait;
      pending.wait = undefined;
      return w;
    };
    const send = (chunk: Uint8Array): void => {
      bytes += chunk.length;
      const w = sink(chunk);
      if (w !== undefined) pending.wait = w;
    };
    const opus = usesOpus ? await opusDecoderPair() : null;
    try {
      return await renderWith(newRenderer(send, opus), send, take, () => bytes);
    } finally {
      opus?.caller.free();
      opus?.callee.free();
    }
  };
  /** The two passes' second half: header, paced walk, paced end; `send` is the renderer's onChunk. */
  const renderWith = async (r: CallAudioRenderer, send: (chunk: Uint8Array) => void, take: () => Promise<void> | undefined, sent: () => number): Promise<CallAudioSummary> => {
    send(r.wavHeader());
    await take();
    /**
     * The rest of a packet whose arrival releases more than one chunk (a gap: silence): one chunk
     * at a time, each after the sink has taken the one before, then the packet. The walk waits
     * for it (the decoded packet and header stay valid until the returned promise settles).
     */
    const catchUp = async (leg: AudioLeg, h: RtpHeader, payload: Uint8Array, arrivalUs: number): Promise<void> => {
      do {
        await take();
      } while (!r.advanceTo(arrivalUs));
      r.push(leg, h, payload, arrivalUs);
      await take();
    };
    const walk = { skippedPackets: 0 };
    await forEachCallRtp(spoolDir, query, walk, (rec, p, h) => {
      const t = index.find(p, h, false);
      if (t === null || t.leg === null) return;
      const arrivalUs = arrivalUsOf(rec.tsSec, rec.tsNsec);
      // Past the (capped) end nothing more can be heard: no pushes, the walk goes on cheaply.
      if (arrivalUs > endUs + 10_000_000) return;
      // Common case: the arrival releases at most one chunk; no promise unless the sink asks to wait.
      if (!r.advanceTo(arrivalUs)) return catchUp(t.leg, h, p.payload, arrivalUs);
      r.push(t.leg, h, p.payload, arrivalUs);
      return take();
    });
    while (!r.finishStep()) await take();
    await take();
    return { bytes: sent(), caller: legCounters(r, AudioLeg.Caller), callee: legCounters(r, AudioLeg.Callee) };
  };
  /** The readable's render: its summary, or null when it failed or the reader went away. */
  let readableDone: Promise<CallAudioSummary | null> | null = null;
  let peakBuffered = 0;
  const readable = (): Readable => {
    if (started) throw new Error('CallAudio: render or readable called twice');
    /** The paused walk: resumed by the next read, failed when the reader goes away. */
    let paused: { resume: () => void; fail: (err: Error) => void } | null = null;
    const gone = new Error('CallAudio: reader went away');
    const out = new Readable({
      highWaterMark: CALL_AUDIO_READABLE_HIGH_WATER_MARK,
      read() {
        const p = paused;
        paused = null;
        p?.resume();
      },
      destroy(err, callback) {
        // A client that aborts must not leave the walk (and the spool file) waiting forever.
        const p = paused;
        paused = null;
        p?.fail(gone);
        callback(err);
      },
    });
    readableDone = render((chunk) => {
      if (out.destroyed) return Promise.reject(gone);
      const more = out.push(chunk);
      if (out.readableLength > peakBuffered) peakBuffered = out.readableLength;
      if (more) return undefined;
      return new Promise<void>((resume, fail) => {
        paused = { resume, fail };
      });
    }).then(
      (summary) => {
        out.push(null);
        return summary;
      },
      (err: unknown) => {
        if (err !== gone) out.destroy(err instanceof Error ? err : new Error(String(err)));
        return null;
      },
    );
    return out;
  };
  return {
    plan,
    render,
    readable,
    get done() {
      return readableDone;
    },
    get peakBufferedBytes() {
      return peakBuffered;
    },
  };
}

/**
 * One Opus decoder per leg. The WebAssembly package is imported on the first Opus call only: a
 * sensor whose calls are G.711 never loads it (and bundles that inline it, such as the benches,
 * evaluate it lazily).
 */
async function opusDecoderPair(): Promise<{ caller: OpusAudioDecoder; callee: OpusAudioDecoder }> {
  const { createOpusAudioDecoder } = await import('@callscope/rtp/opus');
  return { caller: await createOpusAudioDecoder(), callee: await createOpusAudioDecoder() };
}

function legCounters(r: CallAudioRenderer, leg: AudioLeg): CallAudioLegCounters {
  const l = r.leg(leg);
  return {
    packets: l.packets,
    late: l.late,
    reordered: l.reordered,
    duplicates: l.duplicates,
    restarts: l.restarts,
    telephoneEvents: l.telephoneEvents,
    comfortNoise: l.comfortNoise,
    unsupported: l.unsupported,
    undecodable: l.undecodable,
    clippedSamples: l.clippedSamples,
  };
}

/**
 * The call's audio as a WAV in one call: {@link openCallAudio} then `render(onChunk)`. Every
 * error (no audio, unsupported codec) is thrown before the first chunk.
 */
export async function readCallAudio(spoolDir: string, query: CallArtifactQuery, options: CallAudioOptions & { onChunk: CallAudioSink }): Promise<CallAudioPlan & CallAudioSummary> {
  const audio = await openCallAudio(spoolDir, query, options);
  const summary = await audio.render(options.onChunk);
  return { ...audio.plan, ...summary };
}
