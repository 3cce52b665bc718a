/**
 * Issue 13: HEP listener throughput on loopback (run by `npm run bench`, or alone:
 * `npm run bench -- sniffer` builds every sniffer bench). A child process sends HEP3 messages
 * carrying a 900-byte SIP INVITE (a typical size; 10,000 distinct Call-IDs, repeated) as fast as it can, over UDP (one datagram per
 * message) and over one TCP connection (64 KiB writes); the main thread runs the HepListener
 * with (a) a sink that only counts (the listener's own cost: socket, framing, frame building)
 * and (b) a real PacketPipeline (the daemon's path: listener + decode + HEP + SIP parse +
 * call table). Per case: messages sent, delivered, UDP kernel drops (from /proc/net/udp), the
 * rate over the receive, and the main thread's CPU per 100,000 messages/s.
 */
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PacketPipeline } from '@callscope/call-engine';
import { createLogger } from '@callscope/runtime';
import { pipelineOptionsFrom } from '../src/cli/analyze.cli.js';
import { loadSnifferConfig } from '../src/config.js';
import { HepListener } from '../src/sources/hep-listener.js';
import { encodeHep3 } from '../test/hep-encode.js';

const MESSAGES = 200_000;

/** HEP3 of an INVITE with SDP, ~900 bytes of SIP; a distinct Call-ID per message. */
function message(i: number): Uint8Array {
  const sdp = 'v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8 0 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n';
  const sip =
    `INVITE sip:bob@example.org SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-${i}\r\nMax-Forwards: 70\r\n` +
    `From: "Alice" <sip:alice@example.org>;tag=${i}\r\nTo: <sip:bob@example.org>\r\nCall-ID: bench-${i}@10.0.0.1\r\nCSeq: 1 INVITE\r\n` +
    `Contact: <sip:alice@10.0.0.1:5060>\r\nUser-Agent: bench-agent/1.0\r\nAllow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO\r\nSupported: timer, replaces\r\n` +
    `Content-Type: application/sdp\r\nContent-Length: ${sdp.length}\r\n\r\n${sdp}`;
  return encodeHep3({ src: Uint8Array.of(10, 0, 0, 1), dst: Uint8Array.of(10, 0, 0, 2), srcPort: 5060, dstPort: 5060, proto: 17, tsSec: 1_764_000_000 + Math.floor(i / 1000), tsUsec: (i % 1000) * 1000, payload: new TextEncoder().encode(sip) });
}

interface Job {
  transport: 'udp' | 'tcp';
  port: number;
  count: number;
  /** Messages per second, 0 = as fast as the socket takes them (UDP only). */
  rate: number;
}

/** Worker: sends `count` messages to the listener as fast as the socket takes them. */
async function send(job: Job): Promise<void> {
  const msgs = Array.from({ length: 10_000 }, (_, i) => message(i));
  if (job.transport === 'udp') {
    const s = createSocket('udp4');
    s.connect(job.port, '127.0.0.1');
    await new Promise((r) => s.once('connect', r));
    const t0 = performance.now();
    for (let i = 0; i < job.count; i += 64) {
      if (job.rate > 0) {
        const ahead = t0 + (i / job.rate) * 1000 - performance.now();
        if (ahead > 1) await new Promise((r) => setTimeout(r, ahead));
      }
      const n = Math.min(64, job.count - i);
      await new Promise<void>((res) => {
        let left = n;
        for (let k = 0; k < n; k++) {
          s.send(msgs[(i + k) % msgs.length]!, () => {
            if (--left === 0) res();
          });
        }
      });
    }
    s.close();
  } else {
    const all = Buffer.concat(msgs);
    const s = connect({ host: '127.0.0.1', port: job.port });
    await new Promise((r) => s.once('connect', r));
    let sent = 0;
    while (sent < job.count) {
      const n = Math.min(msgs.length, job.count - sent);
      const bytes = n === msgs.length ? all : Buffer.concat(msgs.slice(0, n));
      for (let off = 0; off < bytes.length; off += 65536) {
        if (!s.write(bytes.subarray(off, off + 65536))) await new Promise((r) => s.once('drain', r));
      }
      sent += n;
    }
    await new Promise<void>((r) => s.end(r));
  }
}

async function runCase(transport: 'udp' | 'tcp', withPipeline: boolean, sendRate = 0): Promise<string> {
  const config = loadSnifferConfig([], {}).config;
  let pipeline: PacketPipeline | null = null;
  let delivered = 0;
  const listener = new HepListener({ host: '127.0.0.1', port: 0, logger: createLogger({ app: 'bench', level: 'silent' }) }, (rec) => {
    delivered++;
    pipeline?.onPacket(rec);
  });
  await listener.start();
  const port = listener.address().port;
  if (withPipeline) {
    const o = pipelineOptionsFrom(config, 'bench');
    pipeline = new PacketPipeline({ ...o, decoder: { ...o.decoder, hepPorts: [...(o.decoder.hepPorts ?? []), port] } }, { onCall: () => undefined, onRegister: () => undefined });
  }
  const cpu0 = process.cpuUsage();
  let first = 0;
  let last = 0;
  const child = fork(fileURLToPath(import.meta.url), ['--send', JSON.stringify({ transport, port, count: MESSAGES, rate: sendRate } satisfies Job)], { stdio: 'inherit' });
  const done = new Promise<void>((res, rej) => {
    child.once('exit', () => {
      res();
    });
    child.once('error', rej);
  });
  // Time from the first delivery to the last: the receive rate, not the sender's start-up.
  const poll = setInterval(() => {
    if (first === 0 && delivered > 0) first = performance.now();
  }, 1);
  let prev = -1;
  let stableSince = performance.now();
  await done;
  for (;;) {
    await new Promise((r) => setTimeout(r, 20));
    if (delivered !== prev) {
      prev = delivered;
      last = performance.now();
      stableSince = last;
    } else if (delivered >= MESSAGES || performance.now() - stableSince > 500) break;
  }
  clearInterval(poll);
  const cpu = process.cpuUsage(cpu0);
  const st = listener.stats();
  await listener.stop();
  const seconds = (last - first) / 1000;
  const rate = delivered / seconds;
  const cpuPer100k = ((cpu.user + cpu.system) / 1e6 / seconds) * (100_000 / rate);
  const ps = pipeline?.stats();
  return [
    `${transport.padEnd(3)} ${withPipeline ? 'listener + pipeline' : 'listener, counting '} ${sendRate > 0 ? `sent at ${sendRate / 1000}k/s` : 'sent at top speed'}`,
    `sent ${MESSAGES}`,
    `delivered ${delivered}`,
    `kernel drops ${st.kernel_drops}`,
    `${Math.round(rate).toLocaleString('en')} msg/s`,
    `${(rate * 900 * 8 / 1e6).toFixed(0)} Mbit/s SIP`,
    `CPU ${(cpuPer100k * 100).toFixed(0)} % of a core per 100k msg/s`,
    ps === undefined ? '' : `(pipeline: ${ps.sip.messages} SIP, ${ps.calls.open ?? 0} calls open)`,
  ].join(', ');
}

const sendArg = process.argv.indexOf('--send');
if (sendArg < 0) {
  const lines: string[] = [];
  for (const transport of ['udp', 'tcp'] as const) {
    for (const withPipeline of [false, true]) lines.push(await runCase(transport, withPipeline));
  }
  // UDP has no flow control: the rates the daemon's path takes without a drop.
  for (const rate of [10_000, 20_000, 40_000]) lines.push(await runCase('udp', true, rate));
  process.stdout.write(`HEP listener on loopback, ${MESSAGES} HEP3 messages of a 900-byte INVITE per case:\n${lines.map((l) => `  ${l}`).join('\n')}\n`);
} else {
  await send(JSON.parse(process.argv[sendArg + 1]!) as Job);
  process.disconnect(); // forked: the IPC channel would keep the sender alive
}
