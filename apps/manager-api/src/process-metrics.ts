/** Prometheus text exposition format version served by /metrics. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Escapes a label value per the exposition format (backslash, double quote, newline). */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Inputs of {@link renderProcessMetrics}. */
export interface ProcessMetricsInput {
  readonly app: string;
  readonly version: string;
  /** HTTP responses sent so far, by status code. */
  readonly responses: ReadonlyMap<number, number>;
}

/**
 * Renders the process metrics of a service in the Prometheus text format: uptime, start time,
 * resident memory, V8 heap, external memory, build info and HTTP responses by status code.
 *
 * @see https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
 */
export function renderProcessMetrics(input: ProcessMetricsInput): string {
  const mem = process.memoryUsage();
  const uptime = process.uptime();
  const lines: string[] = [];
  const gauge = (name: string, help: string, value: number): void => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name} ${value}`);
  };
  gauge('process_uptime_seconds', 'Seconds since the process started.', uptime);
  gauge('process_start_time_seconds', 'Start time of the process since the Unix epoch in seconds.', Math.round(Date.now() / 1000 - uptime));
  gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', mem.rss);
  gauge('nodejs_heap_size_used_bytes', 'V8 heap in use in bytes.', mem.heapUsed);
  gauge('nodejs_heap_size_total_bytes', 'V8 heap allocated in bytes.', mem.heapTotal);
  gauge('nodejs_external_memory_bytes', 'Memory of C++ objects bound to JavaScript (buffers) in bytes.', mem.external);
  lines.push(
    '# HELP callscope_build_info Build information; the value is always 1.',
    '# TYPE callscope_build_info gauge',
    `callscope_build_info{app="${escapeLabelValue(input.app)}",version="${escapeLabelValue(input.version)}"} 1`,
    '# HELP callscope_http_responses_total HTTP responses sent, by status code.',
    '# TYPE callscope_http_responses_total counter',
  );
  for (const [code, count] of [...input.responses].sort((a, b) => a[0] - b[0])) {
    lines.push(`callscope_http_responses_total{code="${code}"} ${count}`);
  }
  return `${lines.join('\n')}\n`;
}
