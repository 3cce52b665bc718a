// One lint configuration for the whole workspace: typed typescript-eslint rules everywhere and the
// architecture (STYLE.md) enforced through Nx tags. Projects lint with `eslint .` from their root.
import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';
import { readFileSync, readdirSync } from 'node:fs';

/** Node built-ins a pure protocol lib must not touch: it does no I/O, reads no env. */
const NODE_IO = [
  'fs', 'fs/promises', 'net', 'tls', 'dgram', 'http', 'https', 'http2', 'child_process', 'cluster',
  'worker_threads', 'os', 'process', 'readline', 'zlib', 'dns',
].flatMap((m) => [m, `node:${m}`]);

/** Roots of the projects carrying one of `tags`, read from their project.json so tags stay the source. */
const rootsTagged = (...tags) =>
  ['libs', 'apps'].flatMap((dir) =>
    readdirSync(new URL(dir, import.meta.url)).flatMap((name) => {
      try {
        const project = JSON.parse(readFileSync(new URL(`${dir}/${name}/project.json`, import.meta.url), 'utf8'));
        return tags.some((t) => project.tags?.includes(t)) ? [`${dir}/${name}`] : [];
      } catch {
        return []; // a folder without project.json is not a project
      }
    }),
  );
/** Pure projects: the protocol libs and the call engine (domain) above them. */
const PURE_ROOTS = rootsTagged('type:protocol', 'type:domain');
/** Banned for pure projects: service frameworks, the database driver, loggers (the capture addon, @callscope/live-capture, is a type:data lib: the tags keep it out). */
const PURE_BANNED = ['fastify', '@fastify/*', 'mysql2', 'mysql2/*', 'pino', ...NODE_IO];

export default tseslint.config(
  {
    ignores: ['**/dist/**', '**/node_modules/**', '**/var/**', '**/*.generated.*', '**/generated/**', '**/test/fixtures/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    plugins: { '@nx': nx },
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          // rtp is imported statically everywhere, and lazily for its Opus entry point
          // (`@callscope/rtp/opus`, a WASM decoder loaded only for calls that carry Opus), so the
          // sniffer bundle does not load it at start.
          checkDynamicDependenciesExceptions: ['@callscope/rtp'],
          depConstraints: [
            // Apps depend on libs, never on each other. (`type:test` is allowed everywhere for test
            // files; a rule below keeps it out of every `src/` but test files.)
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:domain', 'type:protocol', 'type:data', 'type:util', 'type:test'] },
            // e2e drives built apps as processes; it may use any lib to build fixtures and check results.
            { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:domain', 'type:protocol', 'type:data', 'type:util', 'type:test'] },
            // Data libs do I/O (files, MySQL) on top of the protocol libs.
            { sourceTag: 'type:data', onlyDependOnLibsWithTags: ['type:protocol', 'type:data', 'type:util', 'type:test'] },
            // Service plumbing (config, logging) knows nothing of the protocols.
            { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util', 'type:test'] },
            // The call engine: pure like the protocol libs it builds on; apps attach its outputs.
            { sourceTag: 'type:domain', onlyDependOnLibsWithTags: ['type:protocol', 'type:test'], bannedExternalImports: PURE_BANNED },
            // Pure protocol libs: no I/O, no env, no logger, no service frameworks.
            { sourceTag: 'type:protocol', onlyDependOnLibsWithTags: ['type:protocol', 'type:test'], bannedExternalImports: PURE_BANNED },
            // Test helpers read fixtures from disk; they build on the pure libs only.
            { sourceTag: 'type:test', onlyDependOnLibsWithTags: ['type:protocol'] },
          ],
        },
      ],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/prefer-literal-enum-member': 'off',
      'no-console': 'error',
    },
  },
  {
    // The corpus loader and truth types serve tests, never shipped code. (Before the pure-lib
    // block below: a later block's rule options replace an earlier one's, and that block repeats
    // this ban next to its I/O ban.)
    files: ['apps/*/src/**/*.ts', 'libs/*/src/**/*.ts'],
    ignores: ['**/*.test.ts', 'libs/testing/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [{ name: '@callscope/testing', message: 'Test helpers are for tests only.' }] }] },
  },
  {
    // Nx tags cover workspace and npm imports; Node built-ins are not graph nodes, so the
    // "no I/O in protocol libs" half of the rule is enforced here for the same tagged projects.
    files: PURE_ROOTS.map((root) => `${root}/src/**/*.ts`),
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...NODE_IO.map((name) => ({ name, message: 'Protocol and domain libs are pure: no I/O (STYLE.md).' })),
            { name: '@callscope/testing', message: 'Test helpers are for tests only.' },
          ],
        },
      ],
      'no-restricted-globals': ['error', { name: 'process', message: 'Protocol and domain libs read no env and touch no process state.' }],
    },
  },
  {
    // Command-line front ends and scripts talk to the terminal on purpose.
    files: ['**/cli/**/*.ts', '**/*.cli.ts', '**/bench/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    // Tests may poke at internals with assertions that the type checker cannot prove.
    files: ['**/*.test.ts', '**/test/**/*.ts', '**/bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-floating-promises': 'off',
    },
  },
  {
    files: ['**/*.mjs', '**/*.js', '**/*.cjs', '**/vitest.config.ts'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // Plain Node scripts (test tools run outside the TypeScript build).
    files: ['**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'writable', process: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', __dirname: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off', 'no-console': 'off' },
  },
  {
    // Every project's vitest.config.ts shares the root preset on purpose.
    files: ['**/vitest.config.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
);
