/**
 * Worker side of CompressPool: compresses one chunk per message with the engine the pool chose, writing into the
 * shared output buffer the pool lent it, and hands the raw buffer back (transferred) so nothing is copied.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { CompressJob, CompressReply, WorkerInit } from './compress-protocol.js';
import { loadEngine } from './engine.js';

const port = parentPort;
if (!port) throw new Error('compress-worker.js must run as a worker thread (started by CompressPool)');

const init = workerData as WorkerInit;
const engine = loadEngine(init.engine);
// A failed engine load is reported per job; swallow it here so it is not an unhandled rejection first.
engine.catch(() => undefined);

port.on('message', async (job: CompressJob) => {
  let reply: CompressReply;
  try {
    const e = await engine;
    const src = new Uint8Array(job.raw, job.offset, job.length);
    const out = new Uint8Array(job.out);
    const encoded = await e.compress(src, job.settings, out);
    // An engine that could not write into `out` returns its own buffer; copy it in so the pool sees one kind of result.
    if (encoded.buffer !== job.out) out.set(encoded);
    reply = { id: job.id, raw: job.raw, bytes: encoded.byteLength };
  } catch (err) {
    reply = { id: job.id, raw: job.raw, error: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(reply, reply.raw instanceof ArrayBuffer ? [reply.raw] : []);
});
