#!/usr/bin/env node
// `nx build <app>`: bundles apps/<app>/src/main.ts with the workspace libs inlined into
// dist/apps/<app>/main.js and writes a package.json listing only the npm packages the bundle
// imports at run time (exact installed versions), so `npm install --omit=dev` in that folder
// gives a standalone deployable service.
import { build } from 'esbuild';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const projectRoot = process.argv[2];
if (!projectRoot || !existsSync(join(root, projectRoot, 'src/main.ts'))) {
  console.error(`usage: build-app.mjs apps/<name>  (no src/main.ts in ${projectRoot})`);
  process.exit(2);
}
const appPkg = JSON.parse(readFileSync(join(root, projectRoot, 'package.json'), 'utf8'));
const outDir = join(root, 'dist', projectRoot);
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });

/** npm package name of a bare import specifier (`mysql2/promise` -> `mysql2`). */
const packageOf = (spec) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);

// Worker threads need a script of their own: every src/*.worker.ts becomes <name>.worker.js beside
// main.js (the sniffer's spool writer thread), where the app finds it through import.meta.url.
const workers = readdirSync(join(root, projectRoot, 'src'))
  .filter((f) => f.endsWith('.worker.ts'))
  .map((f) => join(root, projectRoot, 'src', f));
const result = await build({
  entryPoints: [join(root, projectRoot, 'src/main.ts'), ...workers],
  outdir: outDir,
  entryNames: '[name]',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  metafile: true,
  logLevel: 'warning',
  banner: { js: '#!/usr/bin/env node' },
  plugins: [
    {
      // Workspace libs are compiled into the bundle; every other package stays an npm dependency.
      name: 'externalize-npm',
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, (args) => {
          if (args.path.startsWith('@callscope/') || args.path.startsWith('node:')) return undefined;
          return { path: args.path, external: true };
        });
      },
    },
  ],
});

// Each external package is resolved from the file that imports it, so the version recorded is the
// one that file runs against (a lib may need a major version other than the one hoisted to the root).
const external = new Map();
for (const [input, info] of Object.entries(result.metafile.inputs)) {
  for (const imp of info.imports) {
    if (!imp.external || imp.path.startsWith('node:')) continue;
    const name = packageOf(imp.path);
    if (!external.has(name)) external.set(name, join(root, input));
  }
}
const versionOf = (name) => {
  const importer = external.get(name);
  let dir = dirname(importer);
  // Walk up like Node's resolver, reading package.json directly (some packages do not export it).
  for (;;) {
    const p = join(dir, 'node_modules', name, 'package.json');
    if (existsSync(p)) return JSON.parse(readFileSync(p, 'utf8')).version;
    const up = dirname(dir);
    if (up === dir) return '*';
    dir = up;
  }
};
const optional = new Set(Object.keys(appPkg.optionalDependencies ?? {}));
const dependencies = {};
const optionalDependencies = {};
for (const name of [...external.keys()].sort()) {
  if (optional.has(name)) optionalDependencies[name] = versionOf(name);
  else dependencies[name] = versionOf(name);
}
// Optional native bindings are loaded at run time through createRequire (esbuild cannot see
// them), so the app's declared optional dependencies always travel with the bundle.
for (const name of optional) {
  if (!(name in optionalDependencies)) {
    external.set(name, join(root, projectRoot, 'package.json'));
    optionalDependencies[name] = versionOf(name);
  }
}
const name = appPkg.name.replace('@callscope/', '');
writeFileSync(
  join(outDir, 'package.json'),
  JSON.stringify(
    {
      name: appPkg.name,
      version: appPkg.version,
      description: appPkg.description,
      private: true,
      type: 'module',
      main: 'main.js',
      bin: { [`callscope-${name}`]: 'main.js' },
      engines: { node: '>=20.19' },
      dependencies,
      ...(Object.keys(optionalDependencies).length ? { optionalDependencies } : {}),
    },
    null,
    2,
  ) + '\n',
);
chmodSync(join(outDir, 'main.js'), 0o755);
// The libpcap addon (libs/live-capture, native) cannot be inlined: it travels beside the bundle,
// where its loader looks second. Unbuilt, the app still runs and says how to build it.
const addon = join(root, 'libs/live-capture/build/Release/live_capture.node');
if (Object.keys(result.metafile.inputs).some((i) => i.includes('libs/live-capture/src/')) && existsSync(addon)) cpSync(addon, join(outDir, 'live_capture.node'));
// Static assets travel with the bundle; a browser front end (the web GUI's client/, a Vite
// project) is built into public/ beside main.js. Vite is resolved from the app's own folder: it is
// that app's dev dependency, and npm may not hoist it to the root.
if (existsSync(join(root, projectRoot, 'public'))) cpSync(join(root, projectRoot, 'public'), join(outDir, 'public'), { recursive: true });
const viteConfig = join(root, projectRoot, 'client/vite.config.ts');
if (existsSync(viteConfig)) {
  const require = createRequire(join(root, projectRoot, 'package.json'));
  // Always the production bundle: Vite reads NODE_ENV, and a build started under a test runner
  // (NODE_ENV=test) made a 17 % larger development-flavoured bundle that Nx then cached under
  // the same key (the environment is not one of its inputs) and served to a later `npm start`.
  process.env.NODE_ENV = 'production';
  const vite = await import(pathToFileURL(require.resolve('vite')).href);
  await vite.build({ configFile: viteConfig, mode: 'production', logLevel: 'warn' });
}
console.log(`built ${projectRoot} -> dist/${projectRoot} (runtime deps: ${Object.keys(dependencies).concat(Object.keys(optionalDependencies)).join(', ') || 'none'})`);
