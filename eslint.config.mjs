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

/** Roots of the projects tagged `type:protocol`, read from their project.json so tags stay the source. */
const PROTOCOL_ROOTS = ['libs', 'apps'].flatMap((dir) =>
  readdirSync(new URL(dir, import.meta.url)).flatMap((name) => {
    try {
      const project = JSON.parse(readFileSync(new URL(`${dir}/${name}/project.json`, import.meta.url), 'utf8'));
      return project.tags?.includes('type:protocol') ? [`${dir}/${name}`] : [];
    } catch {
      return []; // a folder without project.json is not a project
    }
  }),
);

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
          depConstraints: [
            // Apps depend on libs, never on each other.
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:protocol', 'type:data', 'type:util'] },
            // e2e drives built apps as processes; it may use any lib to build fixtures and check results.
            { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:protocol', 'type:data', 'type:util'] },
            // Data libs do I/O (files, MySQL) on top of the protocol libs.
            { sourceTag: 'type:data', onlyDependOnLibsWithTags: ['type:protocol', 'type:data', 'type:util'] },
            // Service plumbing (config, logging) knows nothing of the protocols.
            { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util'] },
            // Pure protocol libs: no I/O, no env, no logger, no service frameworks.
            {
              sourceTag: 'type:protocol',
              onlyDependOnLibsWithTags: ['type:protocol'],
              bannedExternalImports: ['fastify', '@fastify/*', 'mysql2', 'mysql2/*', 'pino', 'cap', ...NODE_IO],
            },
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
    // Nx tags cover workspace and npm imports; Node built-ins are not graph nodes, so the
    // "no I/O in protocol libs" half of the rule is enforced here for the same tagged projects.
    files: PROTOCOL_ROOTS.map((root) => `${root}/src/**/*.ts`),
    rules: {
      'no-restricted-imports': ['error', { paths: NODE_IO.map((name) => ({ name, message: 'Protocol libs are pure: no I/O (STYLE.md).' })) }],
      'no-restricted-globals': ['error', { name: 'process', message: 'Protocol libs read no env and touch no process state.' }],
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
