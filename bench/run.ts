/**
 * npm run bench -- W1 [--runs 3] [--json] [--frame-copy]
 * --frame-copy also writes with frameOwnership 'copy' (the library's default; the benchmark hands its frames over)
 * in the same rounds, and prints the time ratio of copy to transfer.
 * Streams a standard workload with zarr-stream (v2 and v3) and, in the same run, writes the same bytes with fs in
 * 16 MiB blocks (the disk baseline) and with zarrita.js in 64-frame slabs (a peer). Each write is a fresh process;
 * rounds interleave the writers so drift hits all alike. Prints medians and per-round ratios.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { fillSyntheticFrame } from '../src/frames/synthetic.js';
import { allocPixels, bytesPerPixel } from '../src/dtype.js';
import { WORKLOADS, type Workload } from './workloads.js';
import { nativeEngineAvailable } from '../src/codecs/engine.js';

const run = promisify(execFile);

const here = path.dirname(fileURLToPath(import.meta.url));
const projectRoot = path.resolve(here, '..', '..');
const scratch = path.join(projectRoot, '.bench-out');

interface Sample {
  seconds: number;
  bytes: number;
  peakRss: number;
  rssBefore: number;
  storedBytes: number;
  /** Files (objects) the write left in the store. */
  storedFiles: number;
  /** zarr-stream's estimateMemory() for the write; undefined for the other writers. */
  estimate?: number;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

/** The workload's frames, made once with the standard formula and kept as a file the workers load. */
async function framesFile(w: Workload): Promise<string> {
  const file = path.join(scratch, `frames-${w.frames}x${w.height}x${w.width}-${w.dtype}.bin`);
  if (existsSync(file)) return file;
  await mkdir(scratch, { recursive: true });
  const frameBytes = w.width * w.height * bytesPerPixel(w.dtype);
  const all = Buffer.allocUnsafe(w.frames * frameBytes);
  for (let t = 0; t < w.frames; t++) {
    const pixels = allocPixels(w.dtype, w.width * w.height);
    fillSyntheticFrame(t, w.width, w.height, 1, w.dtype, pixels);
    all.set(new Uint8Array(pixels.buffer), t * frameBytes);
  }
  await writeFile(file + '.tmp', all);
  await rm(file, { force: true });
  await (await import('node:fs/promises')).rename(file + '.tmp', file);
  return file;
}

async function sample(system: string, w: Workload, version: number, engine: string, frames: string, durable: boolean): Promise<Sample> {
  const workload = Object.keys(WORKLOADS).find((k) => WORKLOADS[k] === w)!;
  const out = path.join(scratch, `out-${system}-v${version}-${engine}${durable ? '' : '-nd'}`);
  await rm(out, { recursive: true, force: true });
  // Every write starts with no dirty pages pending from the one before, so none pays for another's writeback.
  await run('sync');
  const worker = path.join(here, 'worker.js');
  const { stdout } = await run(process.execPath, ['--expose-gc', '--max-old-space-size=8192', worker, system, workload, String(version), engine, frames, out, durable ? 'durable' : 'not-durable'], {
    maxBuffer: 1 << 20,
  });
  await rm(out, { recursive: true, force: true });
  return JSON.parse(stdout) as Sample;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const name = args.find((a) => !a.startsWith('--')) ?? 'W1';
  const runsIndex = args.indexOf('--runs');
  const runs = runsIndex >= 0 ? Number(args[runsIndex + 1]) : 3;
  const json = args.includes('--json');
  const frameCopy = args.includes('--frame-copy');
  const w = WORKLOADS[name];
  if (!w) throw new Error(`unknown workload ${JSON.stringify(name)}; known: ${Object.keys(WORKLOADS).join(', ')}`);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, got ${args[runsIndex + 1]}`);
  const frames = await framesFile(w);
  // Compressed workloads run zarr-stream once per engine: the native c-blosc addon (when built) and WebAssembly.
  const engines = w.codec ? (nativeEngineAvailable() ? ['native', 'wasm'] : ['wasm']) : ['-'];
  // [label, system, zarr version, engine, workload, durable]: a workload with a reference (W4: W2, the same without
  // the pyramid) also writes that, with each engine, so their ratio is measured round by round. zarr-stream's first
  // engine also writes with durable: false, so the cost of the fsyncs is a per-round ratio too.
  const systems: Array<[string, string, number, string, Workload, boolean]> = [['baseline', 'baseline', 0, '-', w, false]];
  const reference = w.reference ? WORKLOADS[w.reference]! : undefined;
  for (const v of w.zarrVersions) {
    for (const engine of engines) {
      const label = `zarr-stream v${v}${engine === '-' ? '' : ` ${engine}`}`;
      systems.push([label, 'zarr-stream', v, engine, w, true]);
      if (frameCopy) systems.push([`${label} (copy)`, 'zarr-stream-copy', v, engine, w, true]);
      if (engine === engines[0]) systems.push([`${label} not durable`, 'zarr-stream', v, engine, w, false]);
      if (reference) systems.push([`${label} (${w.reference})`, 'zarr-stream', v, engine, reference, true]);
    }
    systems.push([`zarrita.js v${v}`, 'zarrita', v, '-', w, false]);
  }
  const samples = new Map<string, Sample[]>(systems.map(([label]) => [label, []]));
  for (let round = 0; round < runs; round++) {
    for (const [label, system, version, engine, workload, durable] of systems) {
      const s = await sample(system, workload, version, engine, frames, durable);
      samples.get(label)!.push(s);
      if (!json) process.stderr.write(`round ${round + 1}/${runs} ${label}: ${((s.bytes / 1e6) / s.seconds).toFixed(0)} MB/s\n`);
    }
  }
  const rate = (s: Sample) => s.bytes / 1e6 / s.seconds;
  const rows = systems.map(([label]) => {
    const list = samples.get(label)!;
    return {
      label,
      mbPerSecond: median(list.map(rate)),
      peakRss: median(list.map((s) => s.peakRss)),
      writerMemory: median(list.map((s) => s.peakRss - s.rssBefore)),
      compressionRatio: median(list.map((s) => s.bytes / s.storedBytes)),
      files: list[0]!.storedFiles,
      estimate: list[0]!.estimate,
      // Every round, not the median: the estimate is a bound, so one round above it is a failure.
      maxWriterMemory: Math.max(...list.map((s) => s.peakRss - s.rssBefore)),
    };
  });
  const ratios = systems
    .filter(([, system, , , workload, durable]) => system === 'zarr-stream' && workload === w && durable)
    .map(([label, , v]) => {
      const ours = samples.get(label)!;
      const notDurable = samples.get(`${label} not durable`);
      return {
        label,
        vsBaseline: median(ours.map((s, i) => rate(s) / rate(samples.get('baseline')![i]!))),
        vsZarrita: median(ours.map((s, i) => rate(s) / rate(samples.get(`zarrita.js v${v}`)![i]!))),
        // The page-cache baseline on these VMs is bimodal (fast, or 4-10x slower when its memory must come back
        // from the host): its best run says what the disk path can do at all.
        vsBestBaseline: median(ours.map(rate)) / Math.max(...samples.get('baseline')!.map(rate)),
        // This workload's time over its reference's, per round (W4: the pyramid's cost).
        vsReference: reference ? median(ours.map((s, i) => s.seconds / samples.get(`${label} (${w.reference})`)![i]!.seconds)) : undefined,
        // frameOwnership 'copy' over 'transfer', per round: the cost of copying each frame as it enters.
        vsTransfer: frameCopy ? median(samples.get(`${label} (copy)`)!.map((s, i) => s.seconds / ours[i]!.seconds)) : undefined,
        // The cost of durability: this write's time over the same write without fsyncs, per round.
        durableCost: notDurable ? median(ours.map((s, i) => s.seconds / notDurable[i]!.seconds)) : undefined,
      };
    });
  if (json) {
    process.stdout.write(JSON.stringify({ workload: name, runs, rows, ratios }, null, 2) + '\n');
    return;
  }
  console.log(`\n${w.name}: ${w.frames} frames ${w.height}x${w.width} ${w.dtype}, chunks ${w.chunk.join('x')}, median of ${runs}`);
  console.log('writer                          MB/s   peak RSS   writer memory   ratio   files   estimate');
  console.log('(writer memory: peak RSS minus the RSS with the frames loaded, before the clock starts; estimate: estimateMemory())');
  for (const row of rows) {
    const estimate = row.estimate === undefined ? '' : `${mib(row.estimate).padStart(8)}${row.maxWriterMemory > row.estimate ? '  EXCEEDED' : ''}`;
    console.log(`${row.label.padEnd(30)} ${row.mbPerSecond.toFixed(0).padStart(5)}   ${mib(row.peakRss).padStart(8)}   ${mib(row.writerMemory).padStart(13)}   ${row.compressionRatio.toFixed(3)}   ${String(row.files).padStart(5)}   ${estimate}`);
  }
  for (const r of ratios) {
    console.log(
      `${r.label}: ${r.vsBaseline.toFixed(2)}x the disk baseline, ${r.vsZarrita.toFixed(2)}x zarrita.js (per-round ratios, median); ` +
        `${r.vsBestBaseline.toFixed(2)}x the baseline's best run` +
        (r.vsReference === undefined ? '' : `; takes ${r.vsReference.toFixed(2)}x the time of ${w.reference} (per round, median)`) +
        (r.vsTransfer === undefined ? '' : `; with frameOwnership 'copy' it takes ${r.vsTransfer.toFixed(2)}x the time (per round, median)`) +
        (r.durableCost === undefined ? '' : `; durable takes ${r.durableCost.toFixed(2)}x the time of not durable (per round, median)`),
    );
  }
}

await main();
