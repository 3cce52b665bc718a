import { spawnSync } from 'node:child_process';

/** Runs a command; throws with its stderr when it fails. */
export function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.error?.message || ''}`);
  return r.stdout;
}

/** A veth pair in the root namespace, named with this helper's prefix and the pid (unique, < 16 chars). */
export interface VethPair {
  /** The end frames are injected into. */
  tx: string;
  /** The end that is captured. */
  rx: string;
  remove(): void;
}

/**
 * Creates an up veth pair with IPv6 off (no router solicitations or DAD frames in the capture;
 * the tests also filter on their own EtherType).
 */
export function createVethPair(tag: string): VethPair {
  const base = `hA${tag}${process.pid % 100000}`;
  const tx = `${base}t`;
  const rx = `${base}r`;
  spawnSync('ip', ['link', 'del', tx]);
  sh('ip', ['link', 'add', tx, 'type', 'veth', 'peer', 'name', rx]);
  for (const dev of [tx, rx]) {
    spawnSync('sysctl', ['-qw', `net.ipv6.conf.${dev}.disable_ipv6=1`]);
    sh('ip', ['link', 'set', dev, 'up']);
  }
  return {
    tx,
    rx,
    remove: () => {
      spawnSync('ip', ['link', 'del', tx]);
    },
  };
}

/** IEEE 802 "local experimental" EtherType: nothing else on a test veth sends it. */
export const TEST_ETHERTYPE = 0x88b5;
export const TEST_FILTER = `ether proto 0x${TEST_ETHERTYPE.toString(16)}`;

/**
 * A test frame of `length` bytes: broadcast Ethernet header, TEST_ETHERTYPE, then the sequence
 * number (uint32 BE) and a byte pattern derived from it, so content can be checked per packet.
 */
export function testFrame(seq: number, length: number): Buffer {
  const f = Buffer.alloc(length);
  f.fill(0xff, 0, 6);
  f.set([0x02, 0, 0, 0, 0, 1], 6);
  f.writeUInt16BE(TEST_ETHERTYPE, 12);
  f.writeUInt32BE(seq >>> 0, 14);
  for (let i = 18; i < length; i++) f[i] = (seq + i) & 0xff;
  return f;
}
