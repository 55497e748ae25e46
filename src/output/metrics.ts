/**
 * Prometheus exposition of a run (prom-client): how a fleet of hosts is
 * watched from an existing Prometheus. Labels are bounded sets (directions,
 * kernel reasons, cause codes, errnos) except comm, which the kernel bounds
 * to 16 bytes and a host to its programs' names.
 */
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Registry } from 'prom-client';
import { UserError } from '../errors.js';
import type { Output } from './outputs.js';

export interface MetricsServer {
  output: Output;
  /** where it listens, as host:port */
  address: string;
  close(): Promise<void>;
}

export async function startMetrics(host: string, port: number, stats: () => { lost: number; filtered: number }): Promise<MetricsServer> {
  const registry = new Registry();
  const resets = new Counter({
    name: 'rsttrace_resets_total',
    help: 'TCP resets sent or received by this host',
    labelNames: ['direction', 'reason', 'cause', 'comm'] as const,
    registers: [registry],
  });
  const errors = new Counter({
    name: 'rsttrace_syscall_errors_total',
    help: 'syscalls that failed because of a reset',
    labelNames: ['errno', 'syscall', 'comm'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'rsttrace_lost_events',
    help: 'events the kernel could not hand over (ring buffer full); a counter since start',
    registers: [registry],
    collect() {
      this.set(stats().lost);
    },
  });
  new Gauge({
    name: 'rsttrace_filtered_events',
    help: 'events the kernel-side filters kept out since start',
    registers: [registry],
    collect() {
      this.set(stats().filtered);
    },
  });

  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url !== '/metrics' && req.url !== '/')) {
      res.writeHead(404).end('rsttrace: metrics are at /metrics\n');
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(body),
      (err: Error) => res.writeHead(500).end(`${err.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new UserError(`cannot serve metrics on ${host}:${port}: ${err.code === 'EADDRINUSE' ? 'the port is in use' : err.message}; choose another --metrics address`, err.code ?? 'EIO')),
    );
    server.listen(port, host, () => resolve());
  });
  const bound = server.address();
  const address = typeof bound === 'object' && bound ? `${bound.address.includes(':') ? `[${bound.address}]` : bound.address}:${bound.port}` : `${host}:${port}`;

  return {
    address,
    output: {
      start() {},
      events(events) {
        for (const e of events) {
          if (e.type === 'reset') {
            resets.inc({ direction: e.direction, reason: e.reason ?? 'none', cause: e.cause.code, comm: e.owner?.comm ?? '-' });
          } else {
            errors.inc({ errno: e.errno, syscall: e.syscall, comm: e.comm });
          }
        }
      },
      lost() {},
      end() {},
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
