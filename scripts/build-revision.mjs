#!/usr/bin/env node
// Builds an app as it was at another git revision, for benchmarks that put old and new code side
// by side in the same run: `node scripts/build-revision.mjs <rev> [apps/sniffer]` prints the path
// of that revision's bundle. The revision is checked out as a detached worktree under
// var/bench/rev-<sha>/ (reused when present); its workspace packages are linked inside it so that
// its own libs are bundled, while npm packages resolve from this checkout's node_modules (one
// level up the tree), which is enough for bundles whose npm imports stay external.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync } from 'node:fs';
import { join, dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [rev, app = 'apps/sniffer'] = process.argv.slice(2);
if (!rev) {
  console.error('usage: build-revision.mjs <git revision> [apps/<name>]');
  process.exit(2);
}
const sha = execFileSync('git', ['rev-parse', '--verify', `${rev}^{commit}`], { cwd: root, encoding: 'utf8' }).trim();
const tree = join(root, 'var/bench', `rev-${sha.slice(0, 12)}`);
if (!existsSync(join(tree, '.git'))) {
  mkdirSync(dirname(tree), { recursive: true });
  execFileSync('git', ['worktree', 'add', '--detach', '--force', tree, sha], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
}
// Link the revision's own workspace packages (@callscope/*) inside its tree.
const scope = join(tree, 'node_modules/@callscope');
mkdirSync(scope, { recursive: true });
for (const dir of ['apps', 'libs']) {
  for (const name of readdirSync(join(tree, dir))) {
    const pkgFile = join(tree, dir, name, 'package.json');
    if (!existsSync(pkgFile)) continue;
    const pkg = JSON.parse(readFileSync(pkgFile, 'utf8'));
    const link = join(tree, 'node_modules', pkg.name);
    if (!existsSync(link)) symlinkSync(relative(dirname(link), join(tree, dir, name)), link);
  }
}
const bundle = join(tree, 'dist', app, 'main.js');
if (!existsSync(bundle)) {
  const r = spawnSync(process.execPath, [join(tree, 'scripts/build-app.mjs'), app], { cwd: tree, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
console.log(bundle);
