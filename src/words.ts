/**
 * A sentence with an event's values in it (a cause's summary and fix), kept
 * as its template's text and the values rather than as one string: the JSONL
 * writer copies the template's text, encoded once, and writes the values
 * where they go. As strings, a reset's two sentences were built, then
 * flattened and copied again on the way out: ~0.5 µs of the ~3.6 rsttrace
 * spent on a record in a storm (bench/FINDINGS.md). Text output, and
 * JSON.stringify, see the string.
 */
export type WordsValue = string | number | Words;

export class Words {
  /** pieces.length === values.length + 1: pieces[0] values[0] pieces[1]... */
  constructor(
    readonly pieces: readonly string[],
    readonly values: readonly WordsValue[],
  ) {}

  toString(): string {
    let s = this.pieces[0]!;
    for (let i = 0; i < this.values.length; i++) s += `${this.values[i]}${this.pieces[i + 1]}`;
    return s;
  }

  toJSON(): string {
    return this.toString();
  }
}

/** words`pid ${pid} (${comm})`: the template's pieces are the same array at every call. */
export function words(pieces: TemplateStringsArray, ...values: WordsValue[]): Words {
  return new Words(pieces, values);
}

/** The same sentence: the same template with the same values (compared without building either). */
export function sameWords(a: Words | null, b: Words | null): boolean {
  if (a === b) return true;
  if (a === null || b === null || a.pieces !== b.pieces) return false;
  const n = a.values.length;
  for (let i = 0; i < n; i++) {
    const x = a.values[i]!;
    const y = b.values[i]!;
    if (x === y) continue;
    if (!(x instanceof Words && y instanceof Words && sameWords(x, y))) return false;
  }
  return true;
}
