import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type Metrics = ReturnType<typeof createMetrics>;

/** Prometheus metrics of one Tether instance (its own registry, so several can live in one process). */
export function createMetrics(queueDepth: () => Promise<number>) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tether_' });
  const labelNames = ['method', 'route', 'status'] as const;
  const requests = new Counter({ name: 'tether_http_requests_total', help: 'HTTP requests by route and status.', labelNames, registers: [registry] });
  const duration = new Histogram({
    name: 'tether_http_request_duration_seconds',
    help: 'HTTP request latency by route.',
    labelNames,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  // Never the path or query: they hold provider ids and, in queries, possibly secrets.
  const proxyRequests = new Counter({
    name: 'tether_proxy_requests_total',
    help: 'Requests through the provider API proxy, by provider, method and the status answered.',
    labelNames: ['provider', 'method', 'status'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'tether_job_queue_depth',
    help: 'Jobs waiting in the queue (runnable now or scheduled).',
    registers: [registry],
    async collect() {
      this.set(await queueDepth());
    },
  });
  return {
    registry,
    observe(method: string, route: string, status: number, seconds: number): void {
      const labels = { method, route, status: String(status) };
      requests.inc(labels);
      duration.observe(labels, seconds);
    },
    observeProxy(provider: string, method: string, status: number): void {
      proxyRequests.inc({ provider, method, status: String(status) });
    },
  };
}
