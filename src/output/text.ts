/** The human-readable line per reset, and its header: pure functions. */
import { formatEndpoint } from '../addr.js';
import { localTimeUs } from '../clock.js';
import type { ResetEvent } from '../event.js';

const ENDPOINT_WIDTH = 21; // "255.255.255.255:65535"

export const TEXT_HEADER = [
  'TIME'.padEnd(15),
  'DIR ',
  'LOCAL'.padEnd(ENDPOINT_WIDTH),
  '  ',
  'REMOTE'.padEnd(ENDPOINT_WIDTH),
  'STATE'.padEnd(11),
  'REASON'.padEnd(23),
  'PID/COMM',
].join(' ');

/** tcpdump's spelling of a segment's flags: [S], [S.], [P.], [F.], [R.] */
export function tcpdumpFlags(flags: string[]): string {
  const letters: Record<string, string> = { SYN: 'S', FIN: 'F', RST: 'R', PSH: 'P', URG: 'U', ECE: 'E', CWR: 'W' };
  let s = '';
  for (const f of flags) if (letters[f]) s += letters[f];
  if (flags.includes('ACK')) s += '.';
  return `[${s || 'none'}]`;
}

export function formatTextLine(e: ResetEvent): string {
  return [
    localTimeUs(e.wall_ns),
    e.direction === 'send' ? 'SEND' : 'RECV',
    formatEndpoint(e.laddr, e.lport).padEnd(ENDPOINT_WIDTH),
    '→ ',
    formatEndpoint(e.raddr, e.rport).padEnd(ENDPOINT_WIDTH),
    (e.state ?? '-').padEnd(11),
    (e.reason ?? '-').padEnd(23),
    `${e.current.pid}/${e.current.comm}`,
  ].join(' ');
}
