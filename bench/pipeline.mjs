// rsttrace's user-space cost per record, without the kernel: real records
// from a burst of refused connects (captured once through the addon), then
// decode -> correlate -> format replayed over and over. Prints µs/record.
//   node bench/pipeline.mjs [records]       (as root: it loads the programs once)
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
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
const { formatJsonLine } = await dist('output/jsonl.js');
const { formatText } = await dist('output/text.js');

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

function run(format) {
  const names = kernelNames(addon.kernelInfo([]));
  const correlator = new Correlator({ names, syscalls: addon.syscalls, symbols: kernelSymbols(), clock: systemClock(), processes: new ProcessTable(), procOwners: new Map() });
  let bytes = 0;
  let done = 0;
  const t0 = process.cpuUsage();
  const w0 = performance.now();
  while (done < total) {
    const records = [];
    for (let i = 0; i < n; i++) records.push(decoder.decode(capture, i));
    const out = correlator.process(records).map(format).join('\n');
    bytes += out.length;
    done += n;
  }
  const cpu = process.cpuUsage(t0);
  return { us: (cpu.user + cpu.system) / done, wall: (performance.now() - w0) * 1000 / done, bytes: bytes / done };
}

kernelSymbols(); // the one-time kallsyms parse is not per record
const opts = { brief: false, verbose: false };
for (const [name, format] of [['jsonl', formatJsonLine], ['text', (e) => formatText(e, opts)]]) {
  const r = run(format);
  console.log(`${name.padEnd(5)} ${r.us.toFixed(2)} µs CPU/record  (${r.wall.toFixed(2)} µs wall, ${r.bytes.toFixed(0)} bytes/record, ${n} distinct records x ${Math.round(total / n)})`);
}
