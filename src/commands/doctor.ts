/** `rsttrace doctor`: what works on this host, what does not, and why. */
import { runDoctor, formatDoctor } from '../doctor.js';
import { loadAddon } from '../native.js';
import { fdSink } from '../output/sink.js';
import { defineCommand } from './command.js';

export const doctorCommand = defineCommand({
  command: 'doctor',
  describe: 'check what this host lets rsttrace do, and say what to fix',
  builder: (y) => y.option('load', { type: 'boolean', default: true, describe: 'try loading and attaching the programs (--no-load to skip)' }),
  run: async (args, io) => {
    let addon;
    try {
      addon = loadAddon();
    } catch (err) {
      addon = err as Error;
    }
    const checks = runDoctor(addon, args.load);
    fdSink(io.stdoutFd, () => {}).write(formatDoctor(checks));
    return checks.some((c) => c.verdict === 'fail') ? 1 : 0;
  },
});
