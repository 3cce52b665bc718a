import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SenderCounters, LinkState } from './mirror-sender.js';

/** What the health endpoint serves, read at each request. */
export interface HealthSnapshot {
  state: LinkState;
  target: string;
  sensorId: number;
  uptimeS: number;
  /** Unacknowledged batches and their raw bytes (memory and disk spill). */
  unackedBatches: number;
  unackedBytes: number;
  counters: SenderCounters;
}

/** A listening health endpoint. */
export interface HealthServer {
  /** The bound port (useful with port 0). */
  readonly port: number;
  close(): Promise<void>;
}

/** camelCase counter name -> Prometheus metric name. */
const metricName = (key: string): string => `callscope_mirror_sender_${key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`;

/** Counters that are gauges (can go down); every other counter only grows. */
const GAUGES = new Set(['unackedBatches', 'unackedBytes', 'spilledNow']);

/** Prometheus text exposition (version 0.0.4) of a snapshot. */
export function formatMetrics(s: HealthSnapshot): string {
  const lines: string[] = [];
  const put = (key: string, value: number, help: string) => {
    const name = metricName(key) + (GAUGES.has(key) ? '' : '_total');
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${GAUGES.has(key) ? 'gauge' : 'counter'}`, `${name} ${value}`);
  };
  for (const [key, value] of Object.entries(s.counters) as [string, number][]) put(key, value, `mirror-sender counter ${key}`);
  put('unackedBatches', s.unackedBatches, 'Batches waiting for the sniffer to acknowledge them.');
  put('unackedBytes', s.unackedBytes, 'Raw bytes of those batches, in memory (bounded by buffer.maxMb) and in the disk spill.');
  lines.push('# HELP callscope_mirror_sender_streaming 1 when the link to the sniffer is authenticated and streaming.');
  lines.push('# TYPE callscope_mirror_sender_streaming gauge');
  lines.push(`callscope_mirror_sender_streaming ${s.state === 'streaming' ? 1 : 0}`);
  return `${lines.join('\n')}\n`;
}

/**
 * A small unauthenticated HTTP endpoint (node:http; loopback by default): `GET /health` answers a
 * JSON snapshot (200 while streaming, 503 otherwise, so a probe sees a broken link), `GET /metrics`
 * the counters as Prometheus text. Errors are JSON `{"error": {"code", "message"}}`.
 */
export async function startHealthServer(host: string, port: number, snapshot: () => HealthSnapshot): Promise<HealthServer> {
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(405, 'application/json', JSON.stringify({ error: { code: 'METHOD_NOT_ALLOWED', message: 'only GET' } }));
    } else if (path === '/health') {
      const s = snapshot();
      send(s.state === 'streaming' ? 200 : 503, 'application/json', `${JSON.stringify({ status: s.state === 'streaming' ? 'ok' : 'degraded', ...s })}\n`);
    } else if (path === '/metrics') {
      send(200, 'text/plain; version=0.0.4', formatMetrics(snapshot()));
    } else {
      send(404, 'application/json', JSON.stringify({ error: { code: 'NOT_FOUND', message: `no route ${path ?? ''}; try /health or /metrics` } }));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}
