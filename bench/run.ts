/**
 * npm run bench -- W1 [--runs 3] [--json] [--frame-copy] [--s3]
 * Compressed workloads also run the c-blosc ceiling (the same chunks compressed in memory by the CompressPool with
 * as many threads as zarr-stream uses) and state each zarr-stream write as a fraction of it, per round.
 * --s3 starts fauxqs on 127.0.0.1 in this process and also writes with zarr-stream to s3://bench/<prefix> and, right
 * after, uploads objects of the same sizes with plain SDK multipart uploads, and prints the ratio of the two.
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
import { deletePrefix, startServer } from './s3.js';

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
  /** The S3 writes: the sizes of the objects written. */
  objectSizes?: number[];
  /** The S3 writes: CPU seconds of this (the runner's) process during the write, i.e. the in-process server's. */
  serverCpu?: number;
}

/** Where an S3 write goes, and for the plain upload the object sizes to upload. */
interface S3Target {
  endpoint: string;
  prefix: string;
  sizes?: number[];
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

async function sample(system: string, w: Workload, version: number, engine: string, frames: string, durable: boolean, s3?: S3Target): Promise<Sample> {
  const workload = Object.keys(WORKLOADS).find((k) => WORKLOADS[k] === w)!;
  const out = s3 ? s3.prefix : path.join(scratch, `out-${system}-v${version}-${engine}${durable ? '' : '-nd'}`);
  if (!s3) await rm(out, { recursive: true, force: true });
  const env = s3 ? { ...process.env, BENCH_S3_ENDPOINT: s3.endpoint, BENCH_S3_SIZES: JSON.stringify(s3.sizes ?? []) } : process.env;
  // Every write starts with no dirty pages pending from the one before, so none pays for another's writeback.
  await run('sync');
  const worker = path.join(here, 'worker.js');
  const cpuBefore = process.cpuUsage();
  const { stdout } = await run(process.execPath, ['--expose-gc', '--max-old-space-size=8192', worker, system, workload, String(version), engine, frames, out, durable ? 'durable' : 'not-durable'], {
    maxBuffer: 1 << 20,
    env,
  });
  const cpu = process.cpuUsage(cpuBefore);
  if (!s3) await rm(out, { recursive: true, force: true });
  const result = JSON.parse(stdout) as Sample;
  if (s3) result.serverCpu = (cpu.user + cpu.system) / 1e6;
  return result;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const name = args.find((a) => !a.startsWith('--')) ?? 'W1';
  const runsIndex = args.indexOf('--runs');
  const runs = runsIndex >= 0 ? Number(args[runsIndex + 1]) : 3;
  const json = args.includes('--json');
  const frameCopy = args.includes('--frame-copy');
  const withS3 = args.includes('--s3');
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
    // zarrita.js and the ceiling are written for (t, c, y, x) workloads; an N-D one compares with the disk alone.
    if (!w.dimensions) systems.push([`zarrita.js v${v}`, 'zarrita', v, '-', w, false]);
  }
  if (w.codec && !w.dimensions) systems.push(['c-blosc ceiling', 'blosc-ceiling', 0, nativeEngineAvailable() ? 'native' : 'wasm', w, false]);
  // One S3 write: the last Zarr version with the first engine; the plain upload right after it takes its object sizes.
  const s3Version = w.zarrVersions[w.zarrVersions.length - 1]!;
  const s3Label = `zarr-stream v${s3Version}${engines[0] === '-' ? '' : ` ${engines[0]}`} to S3`;
  if (withS3) systems.push([s3Label, 'zarr-stream-s3', s3Version, engines[0]!, w, true], ['plain multipart to S3', 's3-plain', 0, '-', w, false]);
  const server = withS3 ? await startServer() : undefined;
  const samples = new Map<string, Sample[]>(systems.map(([label]) => [label, []]));
  for (let round = 0; round < runs; round++) {
    for (const [label, system, version, engine, workload, durable] of systems) {
      const prefix = `r${round + 1}-${system}`;
      const s3: S3Target | undefined = server && system.includes('s3') ? { endpoint: server.endpoint, prefix } : undefined;
      if (s3 && system === 's3-plain') s3.sizes = samples.get(s3Label)![round]!.objectSizes;
      const s = await sample(system, workload, version, engine, frames, durable, s3);
      if (s3) await deletePrefix(server!.client, prefix);
      samples.get(label)!.push(s);
      if (!json) process.stderr.write(`round ${round + 1}/${runs} ${label}: ${((s.bytes / 1e6) / s.seconds).toFixed(0)} MB/s\n`);
    }
  }
  await server?.stop();
  const rate = (s: Sample) => s.bytes / 1e6 / s.seconds;
  // The S3 writes are set against the stored bytes: the plain upload sends those, not the raw 1 GiB.
  const storedRate = (s: Sample) => s.storedBytes / 1e6 / s.seconds;
  const ceilingSamples = samples.get('c-blosc ceiling');
  const vsCeiling = (list: Sample[]) => (ceilingSamples ? median(list.map((s, i) => rate(s) / rate(ceilingSamples[i]!))) : undefined);
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
        vsZarrita: samples.has(`zarrita.js v${v}`) ? median(ours.map((s, i) => rate(s) / rate(samples.get(`zarrita.js v${v}`)![i]!))) : undefined,
        // The page-cache baseline on these VMs is bimodal (fast, or 4-10x slower when its memory must come back
        // from the host): its best run says what the disk path can do at all.
        vsBestBaseline: median(ours.map(rate)) / Math.max(...samples.get('baseline')!.map(rate)),
        // This workload's time over its reference's, per round (W4: the pyramid's cost).
        vsReference: reference ? median(ours.map((s, i) => s.seconds / samples.get(`${label} (${w.reference})`)![i]!.seconds)) : undefined,
        // frameOwnership 'copy' over 'transfer', per round: the cost of copying each frame as it enters.
        vsTransfer: frameCopy ? median(samples.get(`${label} (copy)`)!.map((s, i) => s.seconds / ours[i]!.seconds)) : undefined,
        // The cost of durability: this write's time over the same write without fsyncs, per round.
        durableCost: notDurable ? median(ours.map((s, i) => s.seconds / notDurable[i]!.seconds)) : undefined,
        vsCeiling: vsCeiling(ours),
      };
    });
  const s3Ratio = withS3
    ? (() => {
        const ours = samples.get(s3Label)!;
        const plain = samples.get('plain multipart to S3')!;
        const disk = samples.get(s3Label.replace(/ to S3$/, ''));
        return {
          label: s3Label,
          // Same bytes both sides, so the time ratio (plain over ours) is the throughput ratio.
          vsPlain: median(ours.map((s, i) => plain[i]!.seconds / s.seconds)),
          vsDisk: disk ? median(ours.map((s, i) => rate(s) / rate(disk[i]!))) : undefined,
          vsCeiling: vsCeiling(ours),
          storedMbPerSecond: median(ours.map(storedRate)),
          plainMbPerSecond: median(plain.map(storedRate)),
          // The server's CPU over the wall time (includes process start-up and frame loading, when it idles).
          serverBusy: median(ours.map((s) => s.serverCpu! / s.seconds)),
          plainServerBusy: median(plain.map((s) => s.serverCpu! / s.seconds)),
        };
      })()
    : undefined;
  if (json) {
    process.stdout.write(JSON.stringify({ workload: name, runs, rows, ratios, s3: s3Ratio }, null, 2) + '\n');
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
      `${r.label}: ${r.vsBaseline.toFixed(2)}x the disk baseline${r.vsZarrita === undefined ? "" : `, ${r.vsZarrita.toFixed(2)}x zarrita.js`} (per-round ratios, median); ` +
        `${r.vsBestBaseline.toFixed(2)}x the baseline's best run` +
        (r.vsReference === undefined ? '' : `; takes ${r.vsReference.toFixed(2)}x the time of ${w.reference} (per round, median)`) +
        (r.vsTransfer === undefined ? '' : `; with frameOwnership 'copy' it takes ${r.vsTransfer.toFixed(2)}x the time (per round, median)`) +
        (r.durableCost === undefined ? '' : `; durable takes ${r.durableCost.toFixed(2)}x the time of not durable (per round, median)`) +
        (r.vsCeiling === undefined ? '' : `; ${r.vsCeiling.toFixed(2)}x the c-blosc ceiling (per round, median)`),
    );
  }
  if (s3Ratio) {
    console.log(
      `${s3Ratio.label}: ${s3Ratio.vsPlain.toFixed(2)}x a plain multipart upload of the same object sizes to the same server (per round, median); ` +
        `stored bytes go up at ${s3Ratio.storedMbPerSecond.toFixed(0)} MB/s, the plain upload's at ${s3Ratio.plainMbPerSecond.toFixed(0)} MB/s` +
        (s3Ratio.vsDisk === undefined ? '' : `; ${s3Ratio.vsDisk.toFixed(2)}x the same write to disk`) +
        (s3Ratio.vsCeiling === undefined ? '' : `; ${s3Ratio.vsCeiling.toFixed(2)}x the c-blosc ceiling`) +
        `; the server (fauxqs, in the runner process, on the same cores) used ${s3Ratio.serverBusy.toFixed(2)} s of CPU per second of the zarr-stream write, ` +
        `${s3Ratio.plainServerBusy.toFixed(2)} s per second of the plain upload (1.00 = one core saturated)`,
    );
  }
}

await main();
