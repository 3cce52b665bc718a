/**
 * Independent audio oracles for tests: the system's own tools (sox, opus-tools) run as child
 * processes, Ogg packets pulled out of an opusenc file, and the SNR that compares two decoders of
 * the same stream (they are different libopus builds, so sample equality is not the measure).
 */
import { spawnSync } from 'node:child_process';

/** Runs a tool to completion and returns its stdout; a missing tool names the package to install. */
export function runTool(cmd: string, args: readonly string[]): Buffer {
  const r = spawnSync(cmd, args, { maxBuffer: 64 * 1024 * 1024 });
  if (r.error !== undefined) throw new Error(`${cmd} is needed by this test (${r.error.message}); apt-get install -y ${cmd === 'sox' ? 'sox' : 'opus-tools'}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr.toString()}`);
  return r.stdout;
}

/**
 * The packets of an Ogg stream (RFC 3533: pages of lacing segments; a segment under 255 bytes
 * ends a packet). For an Opus file the first two are the OpusHead and OpusTags headers.
 */
export function oggPackets(ogg: Buffer): Buffer[] {
  const packets: Buffer[] = [];
  let part: Buffer[] = [];
  let off = 0;
  while (off < ogg.length) {
    if (ogg.toString('latin1', off, off + 4) !== 'OggS') throw new Error(`no Ogg page at ${off}`);
    const segments = ogg[off + 26]!;
    let p = off + 27 + segments;
    for (let s = 0; s < segments; s++) {
      const len = ogg[off + 27 + s]!;
      part.push(ogg.subarray(p, p + len));
      p += len;
      if (len < 255) {
        packets.push(Buffer.concat(part));
        part = [];
      }
    }
    off = p;
  }
  return packets;
}

/** 16-bit little-endian mono samples of any file sox reads. */
export function pcmOf(file: string): Int16Array {
  const raw = runTool('sox', [file, '-t', 's16', '-L', '-c', '1', '-']);
  return new Int16Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
}

/** SNR in dB of `got` against `ref` over `ref[from, to)` (default: all of `ref`), `got` shifted by `lag` samples. */
export function snrDb(ref: Int16Array, got: Int16Array, lag: number, from = 0, to = ref.length): number {
  let signal = 0;
  let noise = 0;
  for (let i = from; i < to; i++) {
    const r = ref[i]!;
    const d = r - (got[i + lag] ?? 0);
    signal += r * r;
    noise += d * d;
  }
  return 10 * Math.log10(signal / Math.max(noise, 1e-9));
}
