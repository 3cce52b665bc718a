import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';

/** Inputs of {@link ManagerApiMetrics}. */
export interface ManagerApiMetricsOptions {
  readonly app: string;
  readonly version: string;
  /** Asked on each scrape: does the sensor daemon answer on its control socket? */
  readonly daemonUp: () => Promise<boolean>;
}

/**
 * The manager-api's Prometheus metrics (prom-client), in a registry of their own so that several
 * servers in one process (tests) do not share counters: the default process and Node.js metrics,
 * build info, HTTP responses by route and status, and whether the sensor daemon answers.
 */
export class ManagerApiMetrics {
  readonly registry = new Registry();
  private readonly responses: Counter<'route' | 'code'>;

  constructor(options: ManagerApiMetricsOptions) {
    collectDefaultMetrics({ register: this.registry });
    new Gauge({ name: 'callscope_build_info', help: 'Build information; the value is always 1.', labelNames: ['app', 'version'], registers: [this.registry] })
      .labels(options.app, options.version)
      .set(1);
    this.responses = new Counter({
      name: 'callscope_http_responses_total',
      help: 'HTTP responses sent, by route pattern (unmatched requests: "unmatched") and status code.',
      labelNames: ['route', 'code'],
      registers: [this.registry],
    });
    new Gauge({
      name: 'callscope_daemon_up',
      help: 'Whether the sensor daemon answered on its control socket at this scrape (1) or not (0).',
      registers: [this.registry],
      async collect() {
        this.set((await options.daemonUp()) ? 1 : 0);
      },
    });
  }

  /** Counts one response; `route` is the route pattern, never the raw URL (bounded label values). */
  countResponse(route: string | undefined, code: number): void {
    this.responses.inc({ route: route ?? 'unmatched', code: String(code) });
  }

  /** The exposition text and its content type. */
  async render(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}
