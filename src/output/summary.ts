/**
 * --summary: instead of a line per reset, the tables `rsttrace report`
 * prints (the same aggregation), at the end of the run or every -i seconds,
 * as bcc tools do; each interval starts its counts afresh.
 */
import { isoNs, localTimeUs } from '../clock.js';
import { Aggregator } from '../report/aggregate.js';
import { formatReportText } from '../report/format.js';
import { factsOfEvent } from '../report/record.js';
import type { Output } from './outputs.js';
import type { Sink } from './sink.js';

export interface SummaryOutput extends Output {
  /** print what the current interval holds, and start a new one */
  flush(wallNs: bigint): void;
}

export function summaryOutput(sink: Sink, top: number, intervals: boolean): SummaryOutput {
  let agg = new Aggregator({ top });
  let records = 0;
  const print = (title: string) => {
    sink.write(formatReportText({ ...agg.summary(), input: title, lines: records, skipped: 0 }, true) + '\n');
  };
  return {
    start() {},
    events(events) {
      for (const e of events) agg.add(factsOfEvent(e));
      records += events.length;
    },
    lost(wallNs, lost) {
      agg.add({ type: 'lost', lost, ts_ns: Number(wallNs), time: isoNs(wallNs) });
      records++;
    },
    flush(wallNs) {
      print(`interval ending ${localTimeUs(wallNs)}`);
      agg = new Aggregator({ top });
      records = 0;
    },
    end(wallNs) {
      print(intervals ? `interval ending ${localTimeUs(wallNs)}` : 'this run');
      sink.close();
    },
  };
}
