import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readCaptureFile } from '../src/index.js';
import { LinkType } from '@callscope/pcap-format';
import { corpusPath } from '@callscope/testing';

const FIXTURES = new URL('./fixtures/', import.meta.url);
/** wiretap WTAP_ENCAP_* (what tshark's frame.encap_type prints) -> LINKTYPE_*. */
const WTAP_TO_LINKTYPE: Record<string, number> = { '1': LinkType.Ethernet, '25': LinkType.LinuxSll, '7': LinkType.Raw, '129': LinkType.Ipv4 };

describe('hand-built multi-section pcapng against tshark 4.0.17 (saved oracle)', () => {
  it('matches tshark on timestamps, interface ids, lengths and link types of every packet', async () => {
    const oracle = readFileSync(fileURLToPath(new URL('multi-section.tshark.csv', FIXTURES)), 'utf8')
      .trim()
      .split('\n')
      .map((line) => {
        const [, epoch, ifId, len, capLen, encap] = line.split(',');
        const [sec, frac] = epoch === '' ? ['0', '0'] : epoch!.split('.');
        return { tsSec: Number(sec), tsNsec: Number(frac!.padEnd(9, '0')), interfaceId: Number(ifId), origLen: Number(len), capLen: Number(capLen), linkType: WTAP_TO_LINKTYPE[encap!] };
      });
    const got: Array<Record<string, number>> = [];
    const summary = await readCaptureFile(fileURLToPath(new URL('multi-section.pcapng', FIXTURES)), (r) => {
      got.push({ tsSec: r.tsSec, tsNsec: r.tsNsec, interfaceId: r.interfaceId, origLen: r.origLen, capLen: r.capLen, linkType: r.linkType });
    });
    expect(oracle).toHaveLength(5);
    expect(got).toEqual(oracle);
    expect(summary.sections).toBe(2);
    expect(summary.counters.skippedBlocks).toBe(2);
    expect(summary.linkTypes).toEqual([LinkType.Ethernet, LinkType.LinuxSll, LinkType.Raw, LinkType.Ipv4]);
  });
});

describe('every packet of corpus captures against tshark 4.0.17 (saved oracle)', () => {
  it.each(['register-auth.pcapng', 'ipv6-call.pcap', 'basic-call-linux-sll.pcap'])('%s: time, length and captured length of each frame', async (file) => {
    const oracle = readFileSync(fileURLToPath(new URL(`${file.replace(/\.pcap(ng)?$/, '')}.frames.csv`, FIXTURES)), 'utf8')
      .trim()
      .split('\n')
      .map((line) => {
        const [epoch, len, capLen] = line.split(',');
        const [sec, frac] = epoch!.split('.');
        return `${sec}.${frac!.padEnd(9, '0')} ${len} ${capLen}`;
      });
    const got: string[] = [];
    await readCaptureFile(corpusPath(file), (r) => {
      got.push(`${r.tsSec}.${String(r.tsNsec).padStart(9, '0')} ${r.origLen} ${r.capLen}`);
    });
    expect(got.length).toBeGreaterThan(20);
    expect(got).toEqual(oracle);
  });
});
