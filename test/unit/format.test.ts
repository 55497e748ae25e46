import { describe, expect, it } from 'vitest';
import { isoNs, localTimeUs } from '../../src/clock.js';
import type { ResetEvent } from '../../src/event.js';
import { formatJsonLine } from '../../src/output/jsonl.js';
import { formatTextLine, tcpdumpFlags, TEXT_HEADER } from '../../src/output/text.js';

const WALL = 1_795_248_009_737_365_224n;

function fixture(over: Partial<ResetEvent> = {}): ResetEvent {
  return {
    id: 7,
    direction: 'send',
    wall_ns: WALL,
    mono_ns: 289_729_152_447,
    family: 'ipv6',
    laddr: '::1',
    lport: 9,
    raddr: '::1',
    rport: 51234,
    state: null,
    reason: 'NO_SOCKET',
    reason_code: 1,
    netns: 4026531833,
    sock_cookie: null,
    cpu: 1,
    current: { pid: 4711, tid: 4711, comm: 'curl' },
    segment: { flags: ['SYN'], seq: 1, ack: 0, window: 65495, payload_bytes: 0 },
    kstack: [],
    ...over,
  };
}

describe('text output', () => {
  it('one line: time, direction, local → remote, state, reason, pid/comm', () => {
    const line = formatTextLine(fixture());
    expect(line).toBe(
      `${localTimeUs(WALL)} SEND [::1]:9               →  [::1]:51234           -           NO_SOCKET               4711/curl`,
    );
    expect(formatTextLine(fixture({ direction: 'recv', state: 'SYN_SENT', reason: null }))).toMatch(
      / RECV .* SYN_SENT +- +4711\/curl$/,
    );
  });

  it('columns of the header line up with the lines', () => {
    const line = formatTextLine(fixture({ family: 'ipv4', laddr: '10.0.0.1', raddr: '10.0.0.2', state: 'ESTABLISHED' }));
    for (const col of ['STATE', 'REASON', 'PID/COMM']) {
      const at = TEXT_HEADER.indexOf(col);
      expect(line[at - 1], col).toBe(' ');
      expect(line[at], col).not.toBe(' ');
    }
  });

  it('spells segment flags as tcpdump does', () => {
    expect(tcpdumpFlags(['SYN'])).toBe('[S]');
    expect(tcpdumpFlags(['SYN', 'ACK'])).toBe('[S.]');
    expect(tcpdumpFlags(['PSH', 'ACK'])).toBe('[P.]');
    expect(tcpdumpFlags(['ACK'])).toBe('[.]');
  });
});

describe('JSONL output', () => {
  it('is one JSON object with type, schema_version, exact ns and ISO time', () => {
    const line = formatJsonLine(fixture());
    expect(line).not.toContain('\n');
    const r = JSON.parse(line);
    expect(r).toMatchObject({
      type: 'reset',
      schema_version: 1,
      id: 7,
      time: isoNs(WALL),
      direction: 'send',
      family: 'ipv6',
      laddr: '::1',
      lport: 9,
      raddr: '::1',
      rport: 51234,
      state: null,
      reason: 'NO_SOCKET',
      reason_code: 1,
      current: { pid: 4711, comm: 'curl' },
      segment: { flags: ['SYN'], window: 65495 },
    });
    expect(line).toContain(`"ts_ns":${WALL}`);
    expect(r.time).toBe('2026-11-21T08:00:09.737365224Z');
  });

  it('keeps a comm that looks like JSON or like the ts placeholder intact', () => {
    const r = JSON.parse(formatJsonLine(fixture({ current: { pid: 1, tid: 1, comm: '"__TS_NS__"\\' } })));
    expect(r.current.comm).toBe('"__TS_NS__"\\');
    expect(typeof r.ts_ns).toBe('number');
  });
});
