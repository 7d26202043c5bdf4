import test from 'ava';
import { syntheticFrame, syntheticFrames } from '../src/frames/synthetic.js';
import { DTYPES } from '../src/dtype.js';
import { python, requirePythonZarr } from './helpers/readers.js';

test('frame 0, row 0 of a 2048-wide frame starts as workloads.md says', (t) => {
  const frame = syntheticFrame(0, 2048, 1, 1, 'uint16');
  t.deepEqual([...frame.data.subarray(0, 8)].map(Number), [2148, 2151, 2146, 2127, 2128, 2120, 2115, 2105]);
});

test('matches an independent numpy implementation of the formula, every dtype, planes and t > 0', async (t) => {
  if (!(await requirePythonZarr(t.log))) return t.pass();
  const script = `
import sys, numpy as np
t, W, H, P, dtype = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
y, x = np.meshgrid(np.arange(H, dtype=np.int64), np.arange(W, dtype=np.int64), indexing='ij')
tri = lambda v, p: np.abs((v % p) - p // 2)
sig = (tri(x + 8 * t, 512) * tri(y + 4 * t, 1024)) >> 6
M = 0xFFFFFFFF
h = ((x * 73856093) & M) ^ ((y * 19349663) & M) ^ ((t * 83492791) & M)
h ^= h >> 13
h = (h * 0x5bd1e995) & M
h ^= h >> 15
v = 100 + sig + (h & 15)
planes = []
for c in range(P):
    if dtype in ('uint8', 'int8'):
        p = (v + 17 * c) & 255
        p = p - 128 if dtype == 'int8' else p
    else:
        p = v + 1000 * c
    planes.append(p.astype(np.int64).astype(dtype, casting='unsafe'))
sys.stdout.buffer.write(np.stack(planes).astype(np.dtype(dtype).newbyteorder('<')).tobytes().hex().encode())
`;
  for (const dtype of DTYPES) {
    const frame = syntheticFrame(3, 300, 7, 2, dtype);
    const ours = Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength).toString('hex');
    t.is(ours, (await python(script, '3', '300', '7', '2', dtype)).trim(), dtype);
  }
});

test('syntheticFrames refuses bad shapes by name', (t) => {
  t.throws(() => syntheticFrames({ frames: -1, width: 4, height: 4, dtype: 'uint8' }), { message: /frames must be a non-negative integer, got -1/ });
  t.throws(() => syntheticFrames({ frames: 1, width: 4, height: 0, dtype: 'uint8' }), { message: /height must be a positive integer, got 0/ });
  t.throws(() => syntheticFrames({ frames: 1, width: 4, height: 4, dtype: 'u16' as never }), { message: /dtype must be one of .*got "u16"/ });
});
