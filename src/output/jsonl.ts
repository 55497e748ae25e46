/**
 * One JSON object per line. Numbers stay numbers; 64-bit values that can pass
 * 2^53 (wall-clock ns) are written as exact integers, which a reader parsing
 * to doubles may round to ~256 ns.
 */
import { isoNs } from '../clock.js';
import type { TraceEvent } from '../event.js';

export const SCHEMA_VERSION = 1;

export function formatJsonLine(e: TraceEvent): string {
  const { type, id, wall_ns, ...rest } = e;
  // JSON.stringify has no bigint: the exact digits go in by hand.
  const head = `{"type":${JSON.stringify(type)},"schema_version":${SCHEMA_VERSION},"id":${id},"time":"${isoNs(wall_ns)}","ts_ns":${wall_ns}`;
  const body = JSON.stringify(rest);
  return body === '{}' ? `${head}}` : `${head},${body.slice(1)}`;
}
