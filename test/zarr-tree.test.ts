/** What overwrite may remove: the pure rules of src/stores/zarr-tree.ts, on trees built in memory. */
import test from 'ava';
import { foreignEntries, isNode, summarize, type TreeEntry } from '../src/stores/zarr-tree.js';

const file = (name: string): TreeEntry => ({ name });
const dir = (name: string, children: TreeEntry[], array = false): TreeEntry => ({ name, children, array });

test('a v2 and a v3 store of ours, with temporaries and the lock, hold nothing foreign', (t) => {
  const v2 = dir('', [
    file('.zgroup'),
    file('.zattrs'),
    file('.zarr-stream.lock'),
    dir('0', [file('.zarray'), dir('0', [dir('0', [dir('0', [file('0'), file('1'), file('.1.77.3.partial')])])])], true),
    dir('1', [file('.zarray'), file('0.0.0.0')], true),
    dir('2', [file('.zarray.12.4.partial')]),
  ]);
  t.true(isNode(v2));
  t.deepEqual(foreignEntries(v2, new Set(['.zarr-stream.lock'])), []);
  const v3 = dir('', [file('zarr.json'), dir('0', [file('zarr.json'), dir('c', [dir('0', [dir('0', [dir('0', [file('0')])])])]), file('c.1.0.0.0')], true)]);
  t.deepEqual(foreignEntries(v3), []);
});

test('anything else is foreign, named by its path; chunks outside an array are too', (t) => {
  const tree = dir('', [
    file('zarr.json'),
    file('notes.txt'),
    file('.zarr-stream.lock'),
    dir('.git', [file('HEAD')]),
    dir('0', [file('zarr.json'), file('analysis.csv'), dir('c', [dir('0', [file('0'), file('x.tif')]), dir('raw', [])])], true),
    dir('group', [file('zarr.json'), file('3')]),
  ]);
  t.deepEqual(foreignEntries(tree), ['notes.txt', '.zarr-stream.lock', '.git/', '0/analysis.csv', '0/c/0/x.tif', '0/c/raw/', 'group/3']);
  t.false(isNode(dir('', [file('main.c'), file('.env')])));
});

test('summarize keeps an error line short', (t) => {
  t.is(summarize(['a', 'b']), 'a, b');
  t.is(summarize(['a', 'b', 'c', 'd', 'e', 'f', 'g']), 'a, b, c, d, e and 2 more');
});
