/** OME-NGFF metadata against the official strict schemas (read from ../shared/ngff beside the project). */
import test from 'ava';
import { DOWNSAMPLE_METHODS } from '../src/downsample/reduce.js';
import { OME_AXIS_NAMES, omeAttributesV2, omeAttributesV3 } from '../src/metadata/ome.js';
import { validateV2, validateV3 } from './helpers/ngff-schemas.js';

test('v2 .zattrs validates against the strict 0.4 schema, for one level and many, every method', (t) => {
  for (const levels of [1, 2, 4]) {
    for (const method of DOWNSAMPLE_METHODS) {
      const attrs = omeAttributesV2({ levels, method, pixelScaleUm: { x: 0.65, y: 0.5 }, name: 'cells' });
      const { ok, errors } = validateV2(attrs);
      t.true(ok, `${levels} levels, ${method}: ${errors}`);
      t.is(attrs.multiscales[0].datasets.length, levels);
    }
  }
});

test('v3 attributes validate against the strict 0.5 schema, for one level and many, every method', (t) => {
  for (const levels of [1, 2, 4]) {
    for (const method of DOWNSAMPLE_METHODS) {
      const attrs = omeAttributesV3({ levels, method, pixelScaleUm: { x: 0.65, y: 0.5 } });
      const { ok, errors } = validateV3(attrs);
      t.true(ok, `${levels} levels, ${method}: ${errors}`);
    }
  }
});

test('v2 content: version in the multiscale, t c y x axes, scale 2^l in t, y and x', (t) => {
  const attrs = omeAttributesV2({ levels: 3, pixelScaleUm: { x: 0.25, y: 0.5 }, method: 'mean', name: 'run1' });
  const [ms] = attrs.multiscales;
  t.is(attrs.multiscales.length, 1);
  t.is(ms.version, '0.4');
  t.is(ms.name, 'run1');
  t.is(ms.type, 'mean');
  t.deepEqual(ms.axes, [
    { name: 't', type: 'time' },
    { name: 'c', type: 'channel' },
    { name: 'y', type: 'space', unit: 'micrometer' },
    { name: 'x', type: 'space', unit: 'micrometer' },
  ]);
  t.deepEqual(ms.axes.map((a) => a.name), [...OME_AXIS_NAMES]);
  t.deepEqual(ms.datasets, [
    { path: '0', coordinateTransformations: [{ type: 'scale', scale: [1, 1, 0.5, 0.25] }] },
    { path: '1', coordinateTransformations: [{ type: 'scale', scale: [2, 1, 1, 0.5] }] },
    { path: '2', coordinateTransformations: [{ type: 'scale', scale: [4, 1, 2, 1] }] },
  ]);
  t.regex(ms.metadata.description, /2x2x2 \(t, y, x\) mean/);
  t.is(ms.metadata.kwargs.method, 'mean');
});

test('v3 content: version only under ome, same multiscale otherwise; defaults', (t) => {
  const v3 = omeAttributesV3({ levels: 2 });
  t.deepEqual(Object.keys(v3), ['ome']);
  t.is(v3.ome.version, '0.5');
  t.false('version' in v3.ome.multiscales[0]);
  const { version, ...v2rest } = omeAttributesV2({ levels: 2 }).multiscales[0];
  t.is(version, '0.4');
  t.deepEqual(v3.ome.multiscales[0], v2rest);
  t.is(v3.ome.multiscales[0].name, 'image');
  t.is(v3.ome.multiscales[0].type, 'mean');
  t.deepEqual(v3.ome.multiscales[0].datasets[1].coordinateTransformations[0].scale, [2, 1, 2, 2]);
  t.regex(omeAttributesV3({ levels: 1 }).ome.multiscales[0].metadata.description, /one full-resolution level/);
});

test('broken metadata fails the strict schemas', (t) => {
  const v2 = omeAttributesV2({ levels: 2 });
  const noName = structuredClone(v2) as unknown as { multiscales: Array<Record<string, unknown>> };
  delete noName.multiscales[0].name;
  t.false(validateV2(noName).ok, 'strict 0.4 requires name');
  const badScale = structuredClone(v2) as unknown as { multiscales: Array<{ datasets: Array<{ coordinateTransformations: Array<{ scale: unknown[] }> }> }> };
  badScale.multiscales[0].datasets[0].coordinateTransformations[0].scale = ['1', 1, 1, 1];
  t.false(validateV2(badScale).ok, 'scale must be numbers');
  const wrongVersion = structuredClone(v2) as unknown as { multiscales: Array<{ version: string }> };
  wrongVersion.multiscales[0].version = '0.5';
  t.false(validateV2(wrongVersion).ok, '0.4 schema accepts version 0.4 only');

  const v3 = omeAttributesV3({ levels: 2 });
  const v3asV04 = structuredClone(v3) as unknown as { ome: { version: string } };
  v3asV04.ome.version = '0.4';
  t.false(validateV3(v3asV04).ok, 'ome.version must be 0.5');
  const noType = structuredClone(v3) as unknown as { ome: { multiscales: Array<Record<string, unknown>> } };
  delete noType.ome.multiscales[0].type;
  t.false(validateV3(noType).ok, 'strict 0.5 requires type');
  t.false(validateV3(v2).ok, 'a v2 .zattrs is not v3 attributes');
  const oneSpaceAxis = structuredClone(v3) as unknown as { ome: { multiscales: Array<{ axes: Array<{ type: string }> }> } };
  oneSpaceAxis.ome.multiscales[0].axes[2].type = 'channel';
  t.false(validateV3(oneSpaceAxis).ok, 'at least 2 space axes');
});

test('options are validated with the field and value named', (t) => {
  t.throws(() => omeAttributesV2({ levels: 0 }), { message: 'levels must be an integer from 1 to 64; got 0' });
  t.throws(() => omeAttributesV3({ levels: 2, pixelScaleUm: { x: 0, y: 1 } }), {
    message: 'pixelScaleUm.x must be a positive finite number of micrometers; got 0',
  });
  t.throws(() => omeAttributesV3({ levels: 2, pixelScaleUm: { x: 1, y: Number.POSITIVE_INFINITY } }), {
    message: 'pixelScaleUm.y must be a positive finite number of micrometers; got Infinity',
  });
  t.throws(() => omeAttributesV2({ levels: 2, method: 'median' as 'mean' }), {
    message: 'method must be one of mean, min, max, decimate; got "median"',
  });
  t.throws(() => omeAttributesV2({ levels: 2, name: 3 as unknown as string }), { message: 'name must be a string; got 3' });
});
