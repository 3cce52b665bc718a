/**
 * Issue 14: per-call downloads under load (run by `npm run bench`; needs python3 and the built
 * sniffer in dist/). A one-hour G.711 call (synth-pcap, 360,000 RTP packets) is spooled by
 * `sniffer analyze --spool`; the manager-api (built in process, listening on loopback, no TLS, no
 * token) serves its pcap and its SIP ladder to 100 concurrent clients. Baseline in the same run and
 * the same server: a static file of the pcap's size, read from disk with a stream on a route added
 * here. Per case: time to first byte (median, p95, max), wall time for all 100, and throughput.
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { request, Agent } from 'node:http';
import { join } from 'node:path';
import { loadManagerApiConfig } from '../src/config.js';
import { buildServer } from '../src/server.js';

const root = process.env['CALLSCOPE_ROOT'] ?? process.cwd();
const dir = join(root, 'var/bench/manager-api');
const CLIENTS = 100;

function prepare(): { spool: string; callId: string; start: string; static: string } {
  mkdirSync(dir, { recursive: true });
  const pcap = join(dir, 'one-hour-call.pcap');
  const spool = join(dir, 'spool');
  const cdrFile = join(dir, 'one-hour-call.jsonl');
  if (!existsSync(cdrFile)) {
    const synth = spawnSync('python3', [join(root, 'tools/synth-pcap.py'), '--calls', '1', '--duration', '3600', '--seed', '14', '--out', pcap], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (synth.status !== 0) throw new Error('synth-pcap failed');
    const analyzed = spawnSync(process.execPath, [join(root, 'dist/apps/sniffer/main.js'), 'analyze', pcap, '--spool', spool, '--format', 'jsonl'], { encoding: 'utf8', maxBuffer: 1 << 26 });
    if (analyzed.status !== 0) throw new Error(`sniffer analyze failed: ${analyzed.stderr}`);
    writeFileSync(cdrFile, analyzed.stdout);
  }
  const cdr = JSON.parse(readFileSync(cdrFile, 'utf8').split('\n')[0]!) as { call_id: string; start: string };
  return { spool, callId: cdr.call_id, start: cdr.start, static: pcap };
}

interface Sample {
  ttfbMs: number;
  bytes: number;
}

/** One GET to completion: time to the response headers, bytes received. */
function fetchOnce(agent: Agent, port: number, path: string): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      const ttfbMs = performance.now() - t0;
      if (res.statusCode !== 200) reject(new Error(`${path}: HTTP ${res.statusCode}`));
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => {
        resolve({ ttfbMs, bytes });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function load(port: number, path: string): Promise<{ samples: Sample[]; wallMs: number }> {
  const agent = new Agent({ keepAlive: false, maxSockets: CLIENTS });
  const t0 = performance.now();
  const samples = await Promise.all(Array.from({ length: CLIENTS }, () => fetchOnce(agent, port, path)));
  const wallMs = performance.now() - t0;
  agent.destroy();
  return { samples, wallMs };
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

const { spool, callId, start, static: staticFile } = prepare();
const config = loadManagerApiConfig([], { CALLSCOPE_MANAGER_API_SPOOL_DIR: spool, CALLSCOPE_MANAGER_API_RATE_LIMIT_MAX: '1000000' }).config;
const app = buildServer(config, { version: 'bench' });
const staticSize = statSync(staticFile).size;
app.get('/bench/static', (_req, reply) => reply.type('application/octet-stream').send(createReadStream(staticFile)));
await app.listen({ host: '127.0.0.1', port: 0 });
const port = (app.server.address() as { port: number }).port;
const q = `start=${encodeURIComponent(start)}`;
const id = encodeURIComponent(callId);
console.log(`manager-api, one-hour G.711 call (${(staticSize / 1048576).toFixed(0)} MiB capture), ${CLIENTS} concurrent clients on loopback:`);
for (const [label, path] of [
  ['static file (baseline)', '/bench/static'],
  ['call pcap', `/api/v1/calls/${id}/pcap?${q}`],
  ['SIP ladder JSON', `/api/v1/calls/${id}/sip?${q}`],
  ['stream series JSON', `/api/v1/calls/${id}/streams?${q}`],
] as const) {
  const { samples, wallMs } = await load(port, path);
  const ttfb = samples.map((s) => s.ttfbMs);
  const bytes = samples.reduce((a, s) => a + s.bytes, 0);
  console.log(
    `  ${label.padEnd(24)} TTFB median ${pct(ttfb, 50).toFixed(0)} ms, p95 ${pct(ttfb, 95).toFixed(0)} ms, max ${Math.max(...ttfb).toFixed(0)} ms; ` +
      `all ${CLIENTS} in ${(wallMs / 1000).toFixed(2)} s, ${(bytes / 1048576 / (wallMs / 1000)).toFixed(0)} MiB/s (${(samples[0]!.bytes / 1024).toFixed(0)} KiB each)`,
  );
}
await app.close();
