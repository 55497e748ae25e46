/** `rsttrace doctor`: what works on this host, what does not, and why. */
import { runDoctor, formatDoctor } from '../doctor.js';
import { loadAddon } from '../native.js';
import { fdSink } from '../output/sink.js';
import { defineCommand } from './command.js';

export const doctorCommand = defineCommand({
  command: 'doctor',
  describe: 'check what this host lets rsttrace do, and say what to fix',
  builder: (y) => y.option('no-load', { type: 'boolean', default: false, describe: 'do not try loading the programs' }),
  run: async (args, io) => {
    let addon;
    try {
      addon = loadAddon();
    } catch (err) {
      addon = err as Error;
    }
    const checks = runDoctor(addon, !args['no-load']);
    fdSink(io.stdoutFd, () => {}).write(formatDoctor(checks));
    return checks.some((c) => c.verdict === 'fail') ? 1 : 0;
  },
});
