/**
 * Worker side of the Downsampler's threaded mode: runs a PyramidBuilder over level-0 frames that the main thread
 * copies into shared slots, and sends the pyramid's frames back, transferred. Keeping the reductions here leaves the
 * main thread to move tiles, which is what lets a pyramid cost little more than level 0 alone.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { viewPixels, type PixelArray } from '../dtype.js';
import { PyramidBuilder } from './pyramid.js';
import type { DownsampleReply, DownsampleRequest, DownsampleWorkerInit } from './downsample-protocol.js';

const port = parentPort;
if (!port) throw new Error('downsample-worker.js must run as a worker thread (started by Downsampler)');

const init = workerData as DownsampleWorkerInit;
let outputs: Array<{ level: number; t: number; buffer: ArrayBuffer }> = [];
const builder = new PyramidBuilder(init.shapes, init.dtype, init.method, (level: number, t: number, pixels: PixelArray) => {
  // Reducers allocate every output afresh, so the whole buffer is this frame's and can be transferred.
  outputs.push({ level, t, buffer: pixels.buffer as ArrayBuffer });
}, { pairing: init.pairing });

port.on('message', async (request: DownsampleRequest) => {
  let reply: DownsampleReply;
  try {
    // The builder queues its steps, so replies leave in the order the requests came.
    if (request.kind === 'frame') await builder.add(viewPixels(init.dtype, new Uint8Array(request.slot, 0, request.byteLength)));
    else await builder.finish();
    reply = { kind: request.kind, id: request.id, frames: outputs };
  } catch (error) {
    reply = { kind: 'error', id: request.id, message: error instanceof Error ? error.message : String(error), frames: [] };
  }
  outputs = [];
  port.postMessage(reply, reply.frames.map((frame) => frame.buffer));
});
