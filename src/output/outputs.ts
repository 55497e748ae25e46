/**
 * The places a run's events go, each told the same things: the start, each
 * batch of events, losses, the end. Formatting is the formatters' job; an
 * output only decides what to write where.
 */
import type { TraceEvent } from '../event.js';
import { formatLost, formatSessionEnd, formatSessionStart, type SessionEnd, type SessionStart, writeJsonLine } from './jsonl.js';
import type { Sink } from './sink.js';
import { formatText, TEXT_HEADER, type TextOptions } from './text.js';

export interface Output {
  start(wallNs: bigint, s: SessionStart): void;
  events(events: readonly TraceEvent[]): void;
  lost(wallNs: bigint, lost: number, lostTotal: number): void;
  end(wallNs: bigint, s: SessionEnd): void;
}

export function jsonlOutput(sink: Sink): Output {
  return {
    start: (ns, s) => sink.write(formatSessionStart(ns, s) + '\n'),
    events(events) {
      if (!events.length) return;
      sink.writeBytes((out) => {
        for (const e of events) {
          writeJsonLine(out, e);
          out.byte(0x0a);
        }
      });
    },
    lost: (ns, lost, total) => sink.write(formatLost(ns, lost, total) + '\n'),
    end(ns, s) {
      sink.write(formatSessionEnd(ns, s) + '\n');
      sink.close();
    },
  };
}

/** Losses and the summary go to stderr, where a person watching sees them. */
export function textOutput(sink: Sink, opts: TextOptions): Output {
  return {
    start: () => sink.write(TEXT_HEADER + '\n'),
    events(events) {
      if (events.length) sink.writeLines(events.map((e) => formatText(e, opts)));
    },
    lost: () => {},
    end: () => sink.close(),
  };
}
