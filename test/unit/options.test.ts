import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { UserError } from '../../src/errors.js';
import { parseChoice, parseCount, parseRingMiB, parseSeconds } from '../../src/options.js';
import { checkPrivileges, effectiveCaps } from '../../src/preflight.js';

describe('option validators', () => {
  it('accept what they should', () => {
    expect(parseSeconds('-d', '2.5')).toBe(2.5);
    expect(parseCount('-n', 3)).toBe(3);
    expect(parseRingMiB('--ring-buffer', 64)).toBe(64);
    expect(parseChoice('-o', 'jsonl', ['text', 'jsonl'])).toBe('jsonl');
  });

  it('reject the rest with a usage error naming option, value and what is expected', () => {
    const cases: [() => unknown, RegExp][] = [
      [() => parseSeconds('-d', 0), /--?d.*0.*greater than 0/],
      [() => parseSeconds('-d', 'soon'), /"soon"/],
      [() => parseCount('-n', 1.5), /whole number/],
      [() => parseRingMiB('--ring-buffer', 3), /power of two/],
      [() => parseRingMiB('--ring-buffer', 2048), /power of two/],
      [() => parseChoice('-o', 'xml', ['text', 'jsonl']), /one of text, jsonl/],
    ];
    for (const [f, message] of cases) {
      let caught: unknown;
      try {
        f();
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(UserError);
      expect((caught as UserError).exitCode).toBe(2);
      expect((caught as UserError).message).toMatch(message);
    }
  });
});

describe('main()', () => {
  async function run(argv: string[]) {
    const err: string[] = [];
    const code = await main(argv, { stdoutFd: 1, stderr: (l) => err.push(l) });
    return { code, err };
  }

  it('an unknown flag is one line and exit status 2', async () => {
    const { code, err } = await run(['--such-flag']);
    expect(code).toBe(2);
    expect(err).toEqual([expect.stringMatching(/^rsttrace: Unknown argument: such-flag \(see rsttrace --help\)$/)]);
  });

  it('a bad value is one line and exit status 2, before anything is loaded', async () => {
    const { code, err } = await run(['-o', 'xml']);
    expect(code).toBe(2);
    expect(err).toHaveLength(1);
  });
});

describe('privileges', () => {
  it('reads CapEff from /proc/self/status', () => {
    expect(effectiveCaps('Name:\tx\nCapEff:\t000001ffffffffff\n')).toBe(0x1ffffffffffn);
    expect(effectiveCaps('CapEff:\t0000000000000000\n')).toBe(0n);
  });

  it('needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN', () => {
    expect(() => checkPrivileges(0n)).toThrow(/missing CAP_BPF and CAP_PERFMON.*sudo/);
    expect(() => checkPrivileges(1n << 39n)).toThrow(/missing CAP_PERFMON\)/);
    expect(() => checkPrivileges((1n << 39n) | (1n << 38n))).not.toThrow();
    expect(() => checkPrivileges(1n << 21n)).not.toThrow();
  });
});

describe('doctor checks that cannot be staged on a test host', () => {
  it('lockdown: confidentiality fails, the others pass', async () => {
    const { checkLockdown } = await import('../../src/doctor.js');
    expect(checkLockdown('none integrity [confidentiality]')).toMatchObject({ verdict: 'fail', found: 'confidentiality' });
    expect(checkLockdown('none [integrity] confidentiality')).toMatchObject({ verdict: 'ok', found: 'integrity' });
    expect(checkLockdown(null)).toMatchObject({ verdict: 'ok' });
  });

  it('a tracepoint missing from the kernel: one line naming it', async () => {
    const { checkTracepoints } = await import('../../src/preflight.js');
    expect(() => checkTracepoints({ reasons: {}, states: {}, tracepoints: { tcp_send_reset: true, tcp_destroy_sock: false }, functions: {} })).toThrow(
      /^tracepoint tcp_destroy_sock missing from this kernel's BTF; run rsttrace doctor/,
    );
    // optional ones (before 6.3) only turn a feature off
    expect(() => checkTracepoints({ reasons: {}, states: {}, tracepoints: { tcp_send_reset: true, sock_send_length: false }, functions: {} })).not.toThrow();
  });

  it('features from the kernel\'s BTF: socket storage for tracing programs when BTF has bpf_sk_storage_tracing_allowed (5.11)', async () => {
    const { detectFeatures } = await import('../../src/features.js');
    const info = { reasons: { 1: 'NO_SOCKET' }, states: {}, tracepoints: { sock_send_length: true, sock_recv_length: true } };
    expect(detectFeatures({ ...info, functions: { bpf_sk_storage_tracing_allowed: true } })).toMatchObject({ reason: true, 'sock-length': true, 'sk-storage': true });
    expect(detectFeatures({ ...info, functions: {} })['sk-storage']).toBe(false);
    expect(detectFeatures({ ...info, functions: { bpf_sk_storage_tracing_allowed: true } }, ['sk-storage'])['sk-storage']).toBe(false);
  });

  it('kernel version parsing', async () => {
    const { kernelVersion } = await import('../../src/doctor.js');
    expect(kernelVersion('6.18.44-fc-v657')).toEqual([6, 18]);
    expect(kernelVersion('5.10.0-28-amd64')).toEqual([5, 10]);
  });
});
