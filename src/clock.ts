/**
 * bpf_ktime_get_ns() is CLOCK_MONOTONIC, as is process.hrtime. The offset to
 * the wall clock is taken once at start: a reset's wall time is then its
 * monotonic time plus that offset, immune to later clock steps in the order
 * of events.
 */
export interface Clock {
  /** wall-clock ns since the epoch for a monotonic ns value */
  wallNs(monoNs: number): bigint;
}

export function systemClock(): Clock {
  const monoNow = process.hrtime.bigint();
  const wallNow = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
  const offset = wallNow - monoNow;
  return { wallNs: (monoNs) => BigInt(Math.round(monoNs)) + offset };
}

/** ISO-8601 in UTC with nanoseconds: 2026-11-21T07:58:00.123456789Z */
export function isoNs(wallNs: bigint): string {
  const sec = wallNs / 1_000_000_000n;
  const frac = (wallNs - sec * 1_000_000_000n).toString().padStart(9, '0');
  // events come thousands a second: the date and time to the second is reused
  if (sec !== isoSec) {
    isoSec = sec;
    isoPrefix = isoSecond(sec);
  }
  return `${isoPrefix}.${frac}Z`;
}

/** "2026-11-21T07:58:00": a second since the epoch, in UTC. */
export function isoSecond(sec: bigint): string {
  return new Date(Number(sec) * 1000).toISOString().slice(0, 19);
}
let isoSec = -1n;
let isoPrefix = '';

/** Local wall time with microseconds, as bcc tools print it: 07:58:00.123456 */
export function localTimeUs(wallNs: bigint): string {
  const d = new Date(Number(wallNs / 1_000_000n));
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const us = Number((wallNs / 1000n) % 1_000_000n);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(us, 6)}`;
}

/** A duration for people: 0.082 ms, 3.4 ms, 12.5 s */
export function formatMs(v: number): string {
  if (v < 1) return `${v.toFixed(3)} ms`;
  if (v < 10_000) return `${v.toFixed(1)} ms`;
  return `${(v / 1000).toFixed(1)} s`;
}
