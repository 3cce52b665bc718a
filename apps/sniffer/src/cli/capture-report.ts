/**
 * What a user is told on stderr about a damaged or odd capture file after it was read: a cut-off
 * tail (.pcap or .gz alike), resynchronisations over damaged record headers, gzip trailing garbage,
 * gzip CRC mismatches, and the anomalies the reader tolerated. One rule for plain and gzip files:
 * every packet that could be read was analysed, and what could not is said, never silent.
 */
import { CaptureErrorCode, type CaptureSummary } from '@callscope/pcap-format';

const PREFIX = 'sniffer analyze';

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * The stderr lines (without newline) describing what was damaged or unusual in `file`, in the
 * style of `sniffer analyze: <file>: <what>; <what was still analysed>`. Empty for a clean file.
 *
 * @param file - the path as the user gave it
 * @param summary - what `readCaptureFile` resolved with
 */
export function describeCaptureDamage(file: string, summary: CaptureSummary): string[] {
  const lines: string[] = [];
  const say = (text: string): void => {
    lines.push(`${PREFIX}: ${file}: ${text}`);
  };
  const gzip = summary.gzip;
  const gzipDamage = gzip?.damage ?? null;

  if (gzipDamage !== null) {
    if (gzipDamage.code === CaptureErrorCode.GZIP_TRUNCATED) {
      say(`the gzip data is cut off (${gzipDamage.message}); every complete packet that decompressed before it was analysed (${plural(summary.packets, 'packet')})`);
    } else {
      say(`the gzip data is corrupt (${gzipDamage.message}); every complete packet that decompressed before it was analysed (${plural(summary.packets, 'packet')}), the rest of the file is unreadable`);
    }
  }
  // With gzip damage a cut record is its consequence: the line above already says it.
  if (summary.truncation !== null && gzipDamage === null) {
    say(`the last record is cut short (${summary.truncation.message}); every complete packet before it was analysed`);
  }
  if (gzip !== null && gzip.trailingGarbageBytes > 0) {
    say(`${plural(gzip.trailingGarbageBytes, 'byte')} after the last gzip member are not gzip data and were ignored (as gzip -d does); every packet before them was analysed`);
  }
  if (gzip !== null && gzip.crcMismatches > 0) {
    say(`${plural(gzip.crcMismatches, 'gzip member')} failed the CRC-32/length check of ${gzip.crcMismatches === 1 ? 'its' : 'their'} trailer; the packets were analysed but may be corrupt`);
  }

  const c = summary.counters;
  if (c.resyncs > 0) {
    const first = summary.firstDamage === null ? '' : ` (first: ${summary.firstDamage.message})`;
    say(
      `${plural(c.resyncs, 'damaged record header or block', 'damaged record headers or blocks')}${first}; ` +
        `skipped ${plural(c.skippedBytes, 'byte')} to the next plausible record each time and analysed every packet after it`,
    );
  }

  const tolerated: string[] = [];
  if (c.capLenOverSnaplen > 0) tolerated.push(`${plural(c.capLenOverSnaplen, 'record')} longer than the snaplen`);
  if (c.origLenBelowCapLen > 0) tolerated.push(`${plural(c.origLenBelowCapLen, 'record')} with an original length below the captured length`);
  if (c.fractionOverflow > 0) tolerated.push(`${plural(c.fractionOverflow, 'timestamp')} with a µs/ns part of 1 s or more (carried into the seconds)`);
  if (c.skippedBlocks > 0) tolerated.push(`${plural(c.skippedBlocks, 'non-packet pcapng block')} skipped (name resolution, statistics...)`);
  if (tolerated.length > 0) say(`read with ${tolerated.join(', ')}; those packets were analysed`);
  return lines;
}
