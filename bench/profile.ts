/**
 * Where a write's time goes, by thread: node dist/bench/profile.js W2 [--runs 3] [--not-durable] [--version 2|3] [--ceiling]
 * Runs zarr-stream (native engine, frames handed over) on a workload in this process and reads each thread's CPU
 * time from /proc (Linux only) while it runs: the main thread (tiling, stream machinery, messages to the workers,
 * starting file operations), the compress workers, libuv's pool (the file writes, fdatasync, rename: their kernel
 * time is the copy into the page cache and the flush) and V8's own threads (GC). Run it under `node --cpu-prof` for
 * what the main thread's share is made of. Frames come from the file `npm run bench` makes (.bench-out/).
 * --ceiling also runs the c-blosc ceiling (bench/ceiling.ts) after each write and states the write's wall time and
 * CPU time (all threads) over the ceiling's: CPU time hardly depends on what else the machine runs, so its ratio
 * says what the write would reach on idle cores, which wall times on a shared machine cannot.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { zarrTransforms } from '../src/zarr-transforms.js';
import { bytesPerPixel } from '../src/dtype.js';
import { WORKLOADS } from './workloads.js';
import { assembleChunks, ceiling } from './ceiling.js';

const TICK_MS = 10;

/** utime + stime of every thread of this process, in ms (clock ticks of 10 ms). */
function threadTimes(): Map<number, number> {
  const times = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const fields = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      times.set(Number(tid), (Number(fields[11]) + Number(fields[12])) * TICK_MS);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return times;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const name = args.find((a) => !a.startsWith('--')) ?? 'W2';
  const w = WORKLOADS[name];
  if (!w?.codec) throw new Error(`a compressed workload, e.g. W2; got ${name}`);
  const option = (flag: string, fallback: number): number => (args.includes(flag) ? Number(args[args.indexOf(flag) + 1]) : fallback);
  const runs = option('--runs', 3);
  const version = option('--version', 3) as 2 | 3;
  const durable = !args.includes('--not-durable');
  // libuv starts its pool with the first file operation (loading this module's imports, at the latest), after
  // V8's threads: its threads are the last ones there before the write starts any.
  await stat(os.tmpdir());
  const threads = [...threadTimes().keys()].sort((a, b) => a - b);
  const poolSize = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
  const libuvThreads = new Set(threads.slice(-poolSize));
  const v8Threads = new Set(threads.slice(0, -poolSize));
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const file = readFileSync(path.join(root, '.bench-out', `frames-${w.frames}x${w.height}x${w.width}-${w.dtype}.bin`));
  const frameBytes = w.width * w.height * bytesPerPixel(w.dtype);
  const totals = { wall: 0, main: 0, workers: 0, libuv: 0, v8: 0 };
  const all = new Uint8Array(file.buffer, file.byteOffset, file.byteLength);
  const ceilingRatios: Array<{ wall: number; cpu: number }> = [];
  for (let run = 0; run < runs; run++) {
    const frames = Array.from({ length: w.frames }, (_, t) => new Uint16Array(file.buffer, file.byteOffset + t * frameBytes, frameBytes / 2));
    const out = await mkdtemp(path.join(os.tmpdir(), 'zarr-stream-profile-'));
    const before = threadTimes();
    // Compress workers end with the write and take their /proc entries with them: their last sample counts.
    const last = new Map<number, number>();
    const sampler = setInterval(() => threadTimes().forEach((ms, tid) => last.set(tid, ms)), 20);
    const started = performance.now();
    await pipeline(
      Readable.from(frames, { objectMode: true }),
      ...zarrTransforms({
        store: path.join(out, 'w.zarr'),
        zarrVersion: version,
        dtype: w.dtype,
        width: w.width,
        height: w.height,
        chunking: { tileWidth: w.chunk[2], tileHeight: w.chunk[1], framesPerChunk: w.chunk[0] },
        compression: { codec: w.codec.cname, clevel: w.codec.clevel, shuffle: w.codec.shuffle },
        engine: 'native',
        shardChunks: w.shardChunks,
        frameOwnership: 'transfer',
        durable,
      }),
    );
    const wall = performance.now() - started;
    clearInterval(sampler);
    threadTimes().forEach((ms, tid) => last.set(tid, ms));
    const spent = { main: 0, workers: 0, libuv: 0, v8: 0 };
    for (const [tid, ms] of last) {
      const used = ms - (before.get(tid) ?? 0);
      if (tid === process.pid) spent.main += used;
      else if (libuvThreads.has(tid)) spent.libuv += used;
      else if (v8Threads.has(tid)) spent.v8 += used;
      else spent.workers += used;
    }
    console.log(
      `run ${run + 1}: ${((w.frames * frameBytes) / 1e3 / wall).toFixed(0)} MB/s, ${wall.toFixed(0)} ms; CPU ms: main ${spent.main}, compress workers ${spent.workers}, ` +
        `libuv pool (fs) ${spent.libuv}, V8 (GC, compiler) ${spent.v8}`,
    );
    await rm(out, { recursive: true, force: true });
    if (args.includes('--ceiling')) {
      const blosc = await ceiling(w, assembleChunks(w, all));
      const cpuBefore = process.cpuUsage();
      const started = performance.now();
      await blosc.run();
      const ceilingWall = performance.now() - started;
      const cpu = process.cpuUsage(cpuBefore);
      await blosc.close();
      const ceilingCpu = (cpu.user + cpu.system) / 1000;
      const writeCpu = spent.main + spent.workers + spent.libuv + spent.v8;
      ceilingRatios.push({ wall: ceilingWall / wall, cpu: ceilingCpu / writeCpu });
      console.log(`  c-blosc ceiling: ${ceilingWall.toFixed(0)} ms, ${ceilingCpu.toFixed(0)} ms CPU; the write is ${(ceilingWall / wall).toFixed(2)}x its speed, its CPU time ${(writeCpu / ceilingCpu).toFixed(2)}x the ceiling's`);
    }
    totals.wall += wall;
    for (const key of Object.keys(spent) as Array<keyof typeof spent>) totals[key] += spent[key];
  }
  const per = (ms: number): string => (ms / runs).toFixed(0);
  console.log(
    `${w.name} v${version}${durable ? '' : ' not durable'}, mean of ${runs}: ${per(totals.wall)} ms wall; CPU ms main ${per(totals.main)}, compress workers ${per(totals.workers)}, ` +
      `libuv pool ${per(totals.libuv)}, V8 ${per(totals.v8)}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`,
  );
  if (ceilingRatios.length > 0) {
    const median = (values: number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1]!;
    console.log(
      `fraction of the c-blosc ceiling (median over runs): ${median(ceilingRatios.map((r) => r.wall)).toFixed(2)}x by wall time; ` +
        `${median(ceilingRatios.map((r) => r.cpu)).toFixed(2)}x by CPU time (the most two idle cores would give)`,
    );
  }
}

await main();
