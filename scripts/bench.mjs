#!/usr/bin/env node
// `npm run bench`: every project's vitest benchmarks (bench/*.bench.ts), then the whole-app
// benchmark scripts (apps/*/bench/*.ts without .bench), bundled with esbuild and run with
// --expose-gc. Figures are ratios against baselines measured in the same run (STYLE.md).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { ensureNpm, ROOT } from './ensure.mjs';

ensureNpm();
const only = process.argv[2];
// e2e/bench holds the whole-system benchmarks (the GUI in a browser over the built bundles).
const projects = ['libs', 'apps'].flatMap((d) => readdirSync(join(ROOT, d)).map((n) => join(d, n))).concat(['e2e']);
let failed = 0;
// `npm run bench -- apps/sniffer` runs a project's benchmarks; `npm run bench -- apps/sniffer/bench/spool-throughput`
// one whole-app script of it (the vitest benchmarks of a project run only with the project).
const onlyFile = only?.includes('/bench/') ? only.slice(only.indexOf('/bench/') + '/bench/'.length).replace(/\.ts$/, '') : null;
const onlyProject = onlyFile === null ? only : only.slice(0, only.indexOf('/bench/'));
for (const p of projects) {
  if (onlyProject && !p.includes(onlyProject)) continue;
  const benchDir = join(ROOT, p, 'bench');
  if (!existsSync(benchDir)) continue;
  const files = readdirSync(benchDir);
  if (onlyFile === null && files.some((f) => f.endsWith('.bench.ts'))) {
    process.stderr.write(`\n== ${p}: vitest bench\n`);
    const r = spawnSync(join(ROOT, 'node_modules/.bin/vitest'), ['bench', '--run'], { cwd: join(ROOT, p), stdio: 'inherit' });
    if (r.status !== 0) failed++;
  }
  for (const f of files.filter((f) => f.endsWith('.ts') && !f.endsWith('.bench.ts') && (onlyFile === null || f === `${onlyFile}.ts`))) {
    process.stderr.write(`\n== ${p}/bench/${f}\n`);
    const outfile = join(ROOT, 'dist/bench', p, f.replace(/\.ts$/, '.mjs'));
    mkdirSync(join(ROOT, 'dist/bench', p), { recursive: true });
    await build({
      entryPoints: [join(benchDir, f)], outfile, bundle: true, platform: 'node', format: 'esm', target: 'node20',
      logLevel: 'warning',
      plugins: [
        {
          // Workspace libs are compiled in (their package.json points at TypeScript sources).
          name: 'externalize-npm',
          setup(b) {
            b.onResolve({ filter: /^[^./]/ }, (a) => (a.path.startsWith('@callscope/') || a.path.startsWith('node:') ? undefined : { path: a.path, external: true }));
          },
        },
      ],
    });
    const r = spawnSync(process.execPath, ['--expose-gc', outfile], { cwd: ROOT, stdio: 'inherit', env: { ...process.env, CALLSCOPE_ROOT: ROOT } });
    if (r.status !== 0) failed++;
  }
}
process.exit(failed ? 1 : 0);
