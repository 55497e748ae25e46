import { describe, expect, it } from 'vitest';
import { sameWords, Words, words } from '../../src/words.js';

const who = (pid: number) => words`pid ${pid}`;
const said = (pid: number, n: number) => words`${who(pid)} closed with ${n} unread`;

describe('Words', () => {
  it('reads as the string the template makes, in text and in JSON', () => {
    expect(String(said(7, 3))).toBe('pid 7 closed with 3 unread');
    expect(`${words`a ${'b'} c`}`).toBe('a b c');
    expect(JSON.stringify({ s: said(7, 3) })).toBe('{"s":"pid 7 closed with 3 unread"}');
    expect(String(new Words(['plain'], []))).toBe('plain');
  });

  it('is the same sentence only for the same template with the same values', () => {
    expect(sameWords(said(7, 3), said(7, 3))).toBe(true);
    expect(sameWords(said(7, 3), said(7, 4))).toBe(false);
    // a value that is itself a sentence is compared too
    expect(sameWords(said(7, 3), said(8, 3))).toBe(false);
    // the same text from another template is another sentence (a rewrite, never a wrong copy)
    expect(sameWords(words`pid 7`, new Words(['pid 7'], []))).toBe(false);
    expect(sameWords(null, null)).toBe(true);
    expect(sameWords(said(7, 3), null)).toBe(false);
  });
});
