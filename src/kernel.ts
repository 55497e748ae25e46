/**
 * Names of kernel enums, from the running kernel's BTF (via the addon). A
 * value the kernel does not name is shown as such, never guessed.
 */
import type { KernelInfo } from './native.js';

export interface KernelNames {
  reason(value: number): string;
  state(value: number): string;
  /** value of a reason name as this kernel spells it (case-insensitive) */
  reasonValue(name: string): number | undefined;
  /** every reason name (upper case) -> value */
  reasonValues(): Map<string, number>;
}

export function kernelNames(info: Pick<KernelInfo, 'reasons' | 'states'>): KernelNames {
  const byName = new Map(Object.entries(info.reasons).map(([v, n]) => [n.toUpperCase(), Number(v)]));
  return {
    reason: (v) => info.reasons[v] ?? `REASON_${v}`,
    state: (v) => info.states[v] ?? `STATE_${v}`,
    reasonValue: (name) => byName.get(name.toUpperCase()),
    reasonValues: () => new Map(byName),
  };
}
