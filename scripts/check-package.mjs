#!/usr/bin/env node
// The published package is whole (npm run check:package; .ci/run runs it after the tests):
//   1. `npm pack`, and every relative link in the packed Markdown resolves to a file in the tarball;
//   2. the tarball installs into a new consumer project in an empty directory (nothing of this clone beside it);
//   3. the consumer type-checks under strict NodeNext with skipLibCheck off, so our declarations must hold up;
//   4. the consumer runs the README's first TypeScript snippet verbatim and the highland entry, and checks what
//      they wrote.
// Any failure exits non-zero with the step that failed.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const work = mkdtempSync(path.join(tmpdir(), 'zs-package-'));
const keep = process.env.KEEP_PACKAGE_CHECK === '1';

function step(name, fn) {
  process.stdout.write(`check-package: ${name}\n`);
  try {
    return fn();
  } catch (error) {
    process.stderr.write(`check-package: FAILED at "${name}": ${error.stderr?.toString() || error.message}\n`);
    if (!keep) rmSync(work, { recursive: true, force: true });
    process.exit(1);
  }
}

const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

const packed = step('npm pack', () => JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], root))[0]);
const files = new Set(packed.files.map((f) => f.path));
const tarball = path.join(work, packed.filename);

step('links in the packed Markdown resolve inside the package', () => {
  const broken = [];
  for (const file of files) {
    if (!file.endsWith('.md')) continue;
    const text = readFileSync(path.join(root, file), 'utf8');
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/i.test(target) || target.startsWith('#')) continue;
      const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(file), target.split('#')[0]));
      const isDir = [...files].some((f) => f.startsWith(resolved.replace(/\/$/, '') + '/'));
      if (!files.has(resolved) && !isDir) broken.push(`${file}: ${target}`);
    }
  }
  if (broken.length > 0) throw new Error(`links to files the package does not ship:\n  ${broken.join('\n  ')}`);
  for (const needed of ['LICENSE', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli/main.js', 'src/index.ts']) {
    if (!files.has(needed)) throw new Error(`the package lacks ${needed}`);
  }
  // Source maps point at ../../src/*.ts: those must ship too.
  const maps = [...files].filter((f) => f.endsWith('.js.map'));
  for (const map of maps) {
    const { sources } = JSON.parse(readFileSync(path.join(root, map), 'utf8'));
    for (const source of sources) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(map), source));
      if (!files.has(target)) throw new Error(`${map} points at ${target}, which the package does not ship`);
    }
  }
  process.stdout.write(`  ${files.size} files, ${maps.length} source maps, every link resolves\n`);
});

const consumer = path.join(work, 'consumer');
mkdirSync(consumer);
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
const snippet = readme.match(/```ts\n([\s\S]*?)```/)?.[1];
if (!snippet) step('find the README snippet', () => { throw new Error('README.md has no ```ts block'); });

writeFileSync(path.join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2));
writeFileSync(
  path.join(consumer, 'tsconfig.json'),
  JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: false, outDir: 'out', types: ['node'] }, include: ['*.ts'] }, null, 2),
);
writeFileSync(path.join(consumer, 'readme.ts'), snippet);
writeFileSync(
  path.join(consumer, 'highland.ts'),
  `import highland from 'highland';
import { syntheticFrames, type Frame } from 'zarr-stream';
import { writeHighland } from 'zarr-stream/highland';

const frames = highland<Frame>(syntheticFrames({ frames: 6, width: 96, height: 64, dtype: 'uint8' }));
const progress = await writeHighland(frames, { store: 'highland.zarr', dtype: 'uint8', width: 96, height: 64, compression: { codec: 'zstd' } });
if (progress.frames[0] !== 6) throw new Error(\`writeHighland stored \${progress.frames[0]} frames, not 6\`);
console.log('highland entry: 6 frames stored');
`,
);

step('install the tarball into a new consumer project', () =>
  run('npm', ['install', '--no-audit', '--no-fund', tarball, 'highland@^2.13.5', '@types/highland@^2.13.0', 'typescript@^5.9.3', '@types/node@^20.19.0'], consumer),
);
step('type-check the consumer (strict, NodeNext, skipLibCheck off)', () => run(path.join(consumer, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], consumer));
step('run the README snippet', () => run(process.execPath, ['out/readme.js'], consumer));
step('the README snippet wrote its dataset', () => {
  const meta = JSON.parse(readFileSync(path.join(consumer, 'out.zarr', '0', 'zarr.json'), 'utf8'));
  if (JSON.stringify(meta.shape.slice(0, 1)) !== '[128]' || meta.shape.at(-1) !== 2048) throw new Error(`out.zarr/0 has shape ${JSON.stringify(meta.shape)}`);
  JSON.parse(readFileSync(path.join(consumer, 'out.zarr', '1', 'zarr.json'), 'utf8'));
});
step('run the highland entry', () => process.stdout.write(`  ${run(process.execPath, ['out/highland.js'], consumer).trim()}\n`));
step('the CLI of the installed package', () => process.stdout.write(`  ${run(path.join(consumer, 'node_modules', '.bin', 'zarr-stream'), ['--version'], consumer).split('\n').join('\n  ')}\n`));

if (!keep) rmSync(work, { recursive: true, force: true });
process.stdout.write('check-package: the package is whole\n');
