// rsttrace's user-space cost per record, without the kernel: real records
// from a burst of refused connects (captured once through the addon), then
// decode -> correlate -> format -> write (the real sink, to a file) replayed
// in batches as the ring delivers them. Prints µs/record and where it went.
//   node bench/pipeline.mjs [records]       (as root: it loads the programs once)
import { spawnSync } from 'node:child_process';
import { existsSync, ftruncateSync, openSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = (m) => import(path.join(root, 'dist', m));
const addon = createRequire(import.meta.url)(path.join(root, 'build', 'Release', 'rsttrace.node'));
const { createDecoder } = await dist('decode.js');
const { Correlator } = await dist('correlate.js');
const { kernelNames } = await dist('kernel.js');
const { kernelSymbols } = await dist('symbols.js');
const { systemClock } = await dist('clock.js');
const { ProcessTable } = await dist('procinfo.js');
const { jsonlOutput, textOutput } = await dist('output/outputs.js');
const { fileSink } = await dist('output/sink.js');

const total = Number(process.argv[2] ?? 300_000);
// RSTTRACE_CAPTURE=FILE: read the records from FILE (written by an earlier run)
// rather than loading the programs: lets `node --cpu-prof` profile it
const saved = process.env.RSTTRACE_CAPTURE;
const capture = saved && existsSync(saved) ? readFileSync(saved) : captureBurst();
if (saved && !existsSync(saved)) writeFileSync(saved, capture);

function captureBurst() {
const ns = `rstbench-pipe-${process.pid}`;
spawnSync('ip', ['netns', 'add', ns]);
spawnSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
const batches = [];
const tracer = new addon.Tracer({ ringBufferBytes: 16 << 20, filters: { netns: Number(spawnSync('stat', ['-L', '-c', '%i', `/run/netns/${ns}`], { encoding: 'utf8' }).stdout) } });
tracer.start((b) => batches.push(Buffer.from(b)));
spawnSync('ip', ['netns', 'exec', ns, path.join(root, 'build', 'scenarios', 'rstscen'), 'burst', '127.0.0.1', '9', '2000']);
tracer.drain();
tracer.close();
spawnSync('ip', ['netns', 'del', ns]);
return Buffer.concat(batches);
}
const decoder = createDecoder(addon.layout);
const n = decoder.count(capture);
/** records a delivery from the ring holds at full rate (a 128 KiB batch of 808-byte records) */
const BATCH = 160;

/** One pass of the live path: batches decoded, correlated, formatted and written through the real sink to a file. */
function run(makeOutput) {
  const names = kernelNames(addon.kernelInfo([]));
  const correlator = new Correlator({ names, syscalls: addon.syscalls, symbols: kernelSymbols(), clock: systemClock(), processes: new ProcessTable(), procOwners: new Map() });
  const file = path.join(tmpdir(), `rsttrace-pipeline-${process.pid}.out`);
  const sink = fileSink(file, true);
  const output = makeOutput(sink);
  let done = 0;
  let tDecode = 0;
  let tCorrelate = 0;
  let tOutput = 0;
  const t0 = process.cpuUsage();
  const w0 = performance.now();
  while (done < total) {
    for (let first = 0; first < n; first += BATCH) {
      const a = performance.now();
      const records = [];
      for (let i = first; i < Math.min(n, first + BATCH); i++) records.push(decoder.decode(capture, i));
      const b = performance.now();
      const events = correlator.process(records);
      const c = performance.now();
      output.events(events);
      tOutput += performance.now() - c;
      tCorrelate += c - b;
      tDecode += b - a;
    }
    done += n;
    ftruncateSync(openSync(file, 'r+'), 0); // the page cache stays small
  }
  const cpu = process.cpuUsage(t0);
  const wall = (performance.now() - w0) * 1000;
  const bytes = statSync(file).size;
  sink.close();
  unlinkSync(file);
  const per = (ms) => ((ms * 1000) / done).toFixed(2);
  return { us: (cpu.user + cpu.system) / done, wall: wall / done, split: `decode ${per(tDecode)}, correlate ${per(tCorrelate)}, format+write ${per(tOutput)} µs wall`, bytes };
}

kernelSymbols(); // the one-time kallsyms parse is not per record
const opts = { brief: false, verbose: false };
for (const [name, make] of [['jsonl', jsonlOutput], ['text', (sink) => textOutput(sink, opts)]]) {
  const r = run(make);
  console.log(`${name.padEnd(5)} ${r.us.toFixed(2)} µs CPU/record  (${r.wall.toFixed(2)} µs wall: ${r.split}; ${n} distinct records x ${Math.round(total / n)})`);
}
