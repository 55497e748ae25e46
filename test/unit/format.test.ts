import { describe, expect, it } from 'vitest';
import { isoNs, localTimeUs } from '../../src/clock.js';
import { formatJsonLine } from '../../src/output/jsonl.js';
import { formatResetLine, formatText, tcpdumpFlags, TEXT_HEADER } from '../../src/output/text.js';
import { OWNER, resetFixture, syscallErrorFixture, WALL } from './fixtures.js';
import { words } from '../../src/words.js';

const owner = OWNER;

describe('text output', () => {
  it('one line: time, direction, local → remote, state, reason, owner', () => {
    expect(formatResetLine(resetFixture())).toBe(
      `${localTimeUs(WALL)} SEND [::1]:9               →  [::1]:51234           -           NO_SOCKET               -`,
    );
    expect(formatResetLine(resetFixture({ direction: 'recv', state: 'SYN_SENT', reason: null, owner }))).toMatch(
      / RECV .* SYN_SENT +- +900\/nginx$/,
    );
  });

  it('columns of the header line up with the lines', () => {
    const line = formatResetLine(resetFixture({ family: 'ipv4', laddr: '10.0.0.1', raddr: '10.0.0.2', state: 'ESTABLISHED', owner }));
    for (const col of ['STATE', 'REASON', 'OWNER']) {
      const at = TEXT_HEADER.indexOf(col);
      expect(line[at - 1], col).toBe(' ');
      expect(line[at], col).not.toBe(' ');
    }
  });

  it('under the line: cause, fix, context, path, segment and socket facts; --brief leaves them out', () => {
    const e = resetFixture({
      direction: 'send',
      reason: 'TCP_ABORT_ON_CLOSE',
      state: 'CLOSE',
      owner,
      context: { kind: 'syscall', syscall: 'close', pid: 900, comm: 'nginx', timer: null },
      kernel_path: { signature: '__tcp_close → tcp_send_active_reset', stack: ['tcp_send_active_reset', '__tcp_close'], stack_from_event: null },
      segment: null,
      socket: { rcv_unread_bytes: 14, snd_unsent_bytes: 0, snd_unacked_bytes: 0, shutdown: ['read', 'write'], linger_sec: null },
      history: [{ from: 'ESTABLISHED', to: 'CLOSE', ms_before: 0.05 }],
      cause: { code: 'close-unread', summary: words`pid ${900} (${'nginx'}) called close() with ${words`${14} bytes`} unread`, fix: words`read to EOF`, inferred: false },
    });
    const lines = formatText(e, { brief: false, verbose: false }).split('\n');
    expect(lines[0]).toMatch(/ TCP_ABORT_ON_CLOSE +900\/nginx  #7$/);
    expect(lines.slice(1)).toEqual([
      '  close-unread: pid 900 (nginx) called close() with 14 bytes unread',
      '  fix: read to EOF',
      '  context: syscall close() by 900/nginx · path: __tcp_close → tcp_send_active_reset',
      '  socket: unread 14 · shutdown read+write · history CLOSE -0.050 ms · closed by owner 0.200 ms before',
    ]);
    expect(formatText(e, { brief: true, verbose: false })).toBe(formatResetLine(e));
    const verbose = formatText(e, { brief: false, verbose: true });
    expect(verbose).toContain('owner: pid 900 tid 900 uid 33 (socket) cmd: nginx: worker process cgroup: /system.slice/nginx.service');
    expect(verbose).toContain('stack: tcp_send_active_reset ← __tcp_close');
  });

  it('a failed syscall under its reset', () => {
    const err = syscallErrorFixture();
    expect(formatText(err, { brief: false, verbose: false })).toBe(
      `  ↳ ${localTimeUs(WALL)} 901/client recvfrom() failed: ECONNRESET on 127.0.0.1:5000 → 127.0.0.1:80, 0.120 ms after #7`,
    );
    expect(formatText({ ...err, reset_id: null, ms_after_reset: null }, { brief: false, verbose: false })).toMatch(
      /\(no reset seen on this socket\)$/,
    );
    const r = JSON.parse(formatJsonLine(err));
    expect(r).toMatchObject({ type: 'syscall_error', id: 8, reset_id: 7, errno: 'ECONNRESET', syscall: 'recvfrom', pid: 901 });
  });

  it('spells segment flags as tcpdump does', () => {
    expect(tcpdumpFlags(['SYN'])).toBe('[S]');
    expect(tcpdumpFlags(['SYN', 'ACK'])).toBe('[S.]');
    expect(tcpdumpFlags(['PSH', 'ACK'])).toBe('[P.]');
    expect(tcpdumpFlags(['ACK'])).toBe('[.]');
  });
});

describe('JSONL output', () => {
  it('is one JSON object with type, schema_version, exact ns and ISO time first', () => {
    const line = formatJsonLine(resetFixture());
    expect(line).not.toContain('\n');
    expect(line.startsWith(`{"type":"reset","schema_version":1,"time":"2026-11-21T08:00:09.737365224Z","ts_ns":${WALL},"id":7,`)).toBe(true);
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
      context: { kind: 'softirq', syscall: 'connect' },
      kernel_path: { signature: 'tcp_v6_rcv → tcp_v6_send_reset' },
      segment: { flags: ['SYN'], window: 65495 },
      cause: { code: 'closed-port' },
    });
    expect(r.wall_ns).toBeUndefined();
  });

  it('keeps a comm with quotes and backslashes intact', () => {
    const r = JSON.parse(formatJsonLine(resetFixture({ current: { pid: 1, tid: 1, comm: '"ts_ns":1\\' } })));
    expect(r.current.comm).toBe('"ts_ns":1\\');
    expect(typeof r.ts_ns).toBe('number');
  });
});
