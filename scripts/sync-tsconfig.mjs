#!/usr/bin/env node
// Keeps each project's tsconfig.json `references` equal to its @callscope/* dependencies, so
// `tsc -b` type-checks projects in dependency order. `--check` fails on drift instead of writing.
import { readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { join, relative, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');
const dirs = ['apps', 'libs']
  .flatMap((d) => readdirSync(join(root, d)).map((n) => join(d, n)))
  .concat(['e2e'])
  .filter((d) => existsSync(join(root, d, 'package.json')));

const byName = new Map(dirs.map((d) => [JSON.parse(readFileSync(join(root, d, 'package.json'), 'utf8')).name, d]));
let drift = 0;
for (const dir of dirs) {
  const pkg = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
  const deps = { ...pkg.dependencies, ...pkg.devDependencies, ...pkg.optionalDependencies };
  const refs = Object.keys(deps)
    .filter((n) => byName.has(n))
    .sort()
    .map((n) => ({ path: relative(join(root, dir), join(root, byName.get(n))) }));
  const file = join(root, dir, 'tsconfig.json');
  const text = readFileSync(file, 'utf8');
  const tsconfig = JSON.parse(text);
  tsconfig.references = refs;
  const next = JSON.stringify(tsconfig, null, 2) + '\n';
  if (next !== text) {
    drift++;
    if (check) console.error(`${dir}/tsconfig.json references do not match package.json dependencies`);
    else writeFileSync(file, next);
  }
}
if (check && drift) {
  console.error('run: node scripts/sync-tsconfig.mjs');
  process.exit(1);
}
