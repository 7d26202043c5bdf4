#!/usr/bin/env node
/** The zarr-stream command line: `write`, `demo`, `info`, `preview` and `--version`; each command lives in its module. */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { formatNativeStatus, nativeStatus } from '../native-status.js';
import { runInfo } from './info.js';
import { PreviewError, runPreview, type PreviewArgs } from './preview.js';
import { checkFlagValues, FlagError, outputOf, valueDefaults } from './flag-values.js';
import { DEMO_DEFAULTS, InterruptedError, runWrite, WRITE_DEFAULTS, writeFlags, type WriteArgs } from './write-command.js';

export async function main(argv: string[]): Promise<number> {
  // `--version` alone (or with --json) says what this installation runs on: npm hides the install step's report.
  if (argv[0] === '--version' && argv.slice(1).every((arg) => arg === '--json')) {
    const status = nativeStatus();
    process.stdout.write(argv.includes('--json') ? JSON.stringify(status) + '\n' : formatNativeStatus(status).join('\n') + '\n');
    return 0;
  }
  let failure: Error | undefined;
  // yargs takes a lone '-' for a positional, not for a flag's value: `--input -` (stdin) is given to it joined.
  const args0: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--input' && argv[i + 1] === '-') args0.push('--input=' + argv[++i]!);
    else args0.push(argv[i]!);
  }
  const parser = yargs(args0)
    .scriptName('zarr-stream')
    .usage('$0 <command> [options]')
    // <out> is checked here rather than by yargs, which never takes a positional from after `--` (write -- -x.zarr).
    .command('write [out]', 'stream frames (synthetic, a raw file, stdin or a TIFF: --input) into a Zarr store at <out> (after --, <out> may start with -)', (y) =>
      writeFlags(y.positional('out', { type: 'string', describe: 'output directory' }), WRITE_DEFAULTS),
    )
    .command('demo [out]', 'write a small dataset (demo.zarr) and show how to open it', (y) =>
      writeFlags(y.positional('out', { type: 'string', describe: 'output directory (default demo.zarr)' }), DEMO_DEFAULTS),
    )
    .command('info <store>', 'describe any Zarr v2/v3 store: groups, arrays, chunks, codecs, bytes, OME-NGFF axes and scales', (y) =>
      y.positional('store', { type: 'string', describe: 'a Zarr store directory', demandOption: true }).option('json', { type: 'boolean', default: false, describe: 'print JSON [boolean]' }),
    )
    .command('preview <store>', 'a PNG of one frame (or a maximum projection) of any Zarr array, contrast stretched', (y) =>
      y
        .positional('store', { type: 'string', describe: 'a Zarr store directory', demandOption: true })
        .option('level', { type: 'number', default: 0, describe: 'pyramid level [integer, default: 0]' })
        .option('frame', { type: 'number', default: 0, describe: 'index along t [integer, default: 0]' })
        .option('plane', { type: 'number', default: 0, describe: 'index along c [integer, default: 0]' })
        .option('z', { type: 'number', default: 0, describe: 'index along z [integer, default: 0]' })
        .option('mip', { type: 'boolean', default: false, describe: 'maximum projection over t [boolean]' })
        .option('min', { type: 'number', describe: 'value shown black (default: the 0.5 percentile) [number]' })
        .option('max', { type: 'number', describe: 'value shown white (default: the 99.5 percentile) [number]' })
        .option('out', { type: 'string', default: 'preview.png', describe: 'the PNG to write [default: preview.png]' })
        .option('json', { type: 'boolean', default: false, describe: 'print what was written as JSON [boolean]' }),
    )
    .parserConfiguration({ 'populate--': true })
    .demandCommand(1, 'name a command: write, demo, info or preview')
    .strict()
    .help()
    .version(false)
    .epilogue('zarr-stream --version [--json]: the version, and which Blosc engine and pyramid kernels this installation uses')
    .fail((message, error) => {
      failure = error ?? new FlagError(message);
    })
    .exitProcess(false);
  // Flags are parsed as strings and checked by us, so yargs' own type tags would all say [string]: the descriptions
  // say each flag's kind and default instead ([integer, default: 128]). (Not in @types/yargs 17's declarations.)
  (parser as unknown as { usageConfiguration(config: { 'hide-types': boolean }): unknown }).usageConfiguration({ 'hide-types': true });
  const args = await parser.parseAsync();
  if (failure) {
    process.stderr.write(`zarr-stream: error: ${failure.message.split('\n')[0]}\n`);
    return 2;
  }
  const command = String(args._[0]);
  // yargs has printed the help; nothing is to be written.
  if (args.help || argv.includes('--help') || argv.includes('-h')) return 0;
  try {
    if (command === 'info' || command === 'preview') checkFlagValues(args as Record<string, unknown>, {});
    if (command === 'info') await runInfo(args as unknown as { store: string; json: boolean });
    else if (command === 'preview') await runPreview(args as unknown as PreviewArgs);
    else if (command === 'write' || command === 'demo') {
      (args as Record<string, unknown>).out = outputOf(args as Record<string, unknown>, command);
      // Flags that take a value have no yargs default (flag-values.ts): the ones set now are the ones given.
      const given = new Set(Object.keys(args).filter((key) => (args as Record<string, unknown>)[key] !== undefined));
      checkFlagValues(args as Record<string, unknown>, valueDefaults(command === 'write' ? WRITE_DEFAULTS : DEMO_DEFAULTS));
      await runWrite(args as unknown as WriteArgs, command === 'demo', given);
    }
    return 0;
  } catch (error) {
    process.stderr.write(`zarr-stream: error: ${(error as Error).message.split('\n')[0]}\n`);
    return error instanceof FlagError || error instanceof PreviewError ? 2 : error instanceof InterruptedError ? error.exitCode : 1;
  }
}

process.exitCode = await main(hideBin(process.argv));
