/**
 * Worker side of CompressPool: compresses one chunk per message with the engine the pool chose, writing into the
 * shared output buffer the pool lent it, and hands the raw buffer back (transferred) so nothing is copied.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { CompressJob, CompressReply, WorkerInit } from './compress-protocol.js';
import { loadEngine, type BloscEngine } from './engine.js';
import { parseBloscHeader } from './blosc-header.js';
import { storedBlocks, type BlockTemplate } from './blosc-stored-blocks.js';
import type { BloscSettings } from './blosc-settings.js';

const port = parentPort;
if (!port) throw new Error('compress-worker.js must run as a worker thread (started by CompressPool)');

const init = workerData as WorkerInit;
const engine = loadEngine(init.engine);
// A failed engine load is reported per job; swallow it here so it is not an unhandled rejection first.
engine.catch(() => undefined);

const templates = new Map<string, BlockTemplate>();

/**
 * The header of a real (blocked) segment with these settings and size, from compressing zeros once: what a chunk
 * of stored blocks must say to be joined with the engine's compressed segments.
 */
async function templateFor(e: BloscEngine, settings: BloscSettings, bytes: number): Promise<BlockTemplate> {
  const key = `${settings.cname}/${settings.clevel}/${settings.shuffle}/${settings.blocksize}/${settings.typesize}/${bytes}`;
  let template = templates.get(key);
  if (!template) {
    const header = parseBloscHeader(await e.compress(new Uint8Array(bytes), settings));
    if (header.memcpyed) throw new Error(`the ${e.name} engine stores even zeros as a plain copy with ${key}`);
    templates.set(key, (template = header));
  }
  return template;
}

port.on('message', async (job: CompressJob) => {
  let reply: CompressReply;
  try {
    const e = await engine;
    const src = new Uint8Array(job.raw, job.offset, job.length);
    const out = new Uint8Array(job.out);
    let encoded = await e.compress(src, job.settings, out);
    if (job.blocked && parseBloscHeader(encoded).memcpyed) {
      encoded = storedBlocks(src, await templateFor(e, job.settings, src.byteLength), out);
    }
    // An engine that could not write into `out` returns its own buffer; copy it in so the pool sees one kind of result.
    if (encoded.buffer !== job.out) out.set(encoded);
    reply = { id: job.id, raw: job.raw, bytes: encoded.byteLength };
  } catch (err) {
    reply = { id: job.id, raw: job.raw, error: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(reply, reply.raw instanceof ArrayBuffer ? [reply.raw] : []);
});
