/**
 * The commands README.md tells people to run exist (callscope issue 18, finding 8: it documented
 * `sniffer migrate` / `status`, and `npm run migrate` called the missing command). Every
 * `sniffer <command>` in the README's code (inline code and code blocks, `npm run sniffer --
 * <command>` included) must answer `--help` with its usage and exit 0 in the built bundle, and
 * every `npm run <script>` / `npm start` / `npm test` must be a script of the root package.json.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;
const sniffer = join(root, 'dist/apps/sniffer/main.js');

/** What a README names: sniffer commands and npm scripts, each once, in order of appearance. */
interface ReadmeCommands {
  sniffer: string[];
  npm: string[];
}

/** A command word: lower case, digits and dashes (`analyze`, `hash-token`), not `<args>` or `--help`. */
const WORD = '[a-z][a-z0-9-]*';
/** `sniffer <word>`, `sniffer -- <word>` (after `npm run sniffer`), `.../sniffer/main.js <word>`; not `callscope-sniffer`, `sniffer.sock`. */
const SNIFFER_COMMAND = new RegExp(`(?:(?:^|[\\s(;|&$])sniffer(?:\\s+--)?|sniffer/main\\.js)\\s+(${WORD})`, 'g');
/** `npm run [--silent] <script>`, `npm start`, `npm test`. */
const NPM_SCRIPT = new RegExp(`(?:^|[\\s(;|&$])npm\\s+(?:run(?:\\s+(?:--silent|-s))*\\s+([a-z][a-z0-9:._-]*)|(start|test)\\b)`, 'g');
/** A prose list of sniffer commands: `sniffer analyze` / `run` / `stats` names `run` and `stats` too. */
const SLASH_LIST = new RegExp(`\`sniffer ${WORD}[^\`]*\`((?:\\s*/\\s*\`[^\`]+\`)+)`, 'g');

/**
 * The sniffer commands and npm scripts in the code of a Markdown text: fenced blocks line by line,
 * and the inline code spans of the other lines.
 */
function readmeCommands(markdown: string): ReadmeCommands {
  const code: string[] = [];
  const listed: string[] = [];
  let fence: string | null = null;
  for (const line of markdown.split('\n')) {
    const marker = /^\s*(```|~~~)/.exec(line)?.[1];
    if (marker !== undefined && (fence === null || fence === marker)) {
      fence = fence === null ? marker : null;
      continue;
    }
    if (fence !== null) {
      code.push(line);
      continue;
    }
    for (const span of line.matchAll(/`([^`]+)`/g)) code.push(span[1]!);
    for (const list of line.matchAll(SLASH_LIST)) {
      for (const more of list[1]!.matchAll(/`([^`]+)`/g)) {
        const word = new RegExp(`^${WORD}`).exec(more[1]!)?.[0];
        if (word !== undefined) listed.push(word);
      }
    }
  }
  const snifferWords: string[] = [];
  const scripts: string[] = [];
  for (const text of code) {
    for (const m of text.matchAll(SNIFFER_COMMAND)) snifferWords.push(m[1]!);
    for (const m of text.matchAll(NPM_SCRIPT)) scripts.push((m[1] ?? m[2])!);
  }
  return { sniffer: [...new Set([...snifferWords, ...listed])], npm: [...new Set(scripts)] };
}

describe('readmeCommands (the parser the README check relies on)', () => {
  test('finds commands in inline code, prose lists and code blocks, and nothing in paths or prose', () => {
    const md = [
      'Run `sniffer analyze x.pcap` / `live -i eth0` / `pcap`; the sniffer decapsulates (prose: not a command).',
      'Socket `var/run/sniffer.sock`, unit `callscope-sniffer.service`, `npm run sniffer -- <args>`, `sniffer <command>`.',
      'Then `npm run --silent sniffer -- config` and `npm start -- --replay FILE`; not `npm install` nor `npm ci`.',
      '```sh',
      'npm run --silent sniffer -- stats --calls   # a comment',
      'node dist/apps/sniffer/main.js retention --keep-days 7',
      'npm run bench; npm test',
      '```',
      'After the block: sniffer migrate (prose again, not code).',
    ].join('\n');
    const found = readmeCommands(md);
    expect(found.sniffer.sort()).toEqual(['analyze', 'config', 'live', 'pcap', 'retention', 'stats']);
    expect(found.npm.sort()).toEqual(['bench', 'sniffer', 'start', 'test']);
  });
});

const readme = readmeCommands(readFileSync(join(root, 'README.md'), 'utf8'));
const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

describe('README.md names only commands that exist', () => {
  test('the README names sniffer commands and npm scripts (the check below is not empty)', () => {
    expect(readme.sniffer).toContain('analyze');
    expect(readme.sniffer.length).toBeGreaterThanOrEqual(5);
    expect(readme.npm.length).toBeGreaterThanOrEqual(3);
  });

  test.each(readme.sniffer)('sniffer %s --help: its usage on stdout, exit 0 (built bundle)', (command) => {
    const r = spawnSync(process.execPath, [sniffer, command, '--help'], { encoding: 'utf8', env: { ...process.env, CALLSCOPE_SNIFFER_CONFIG: '' } });
    expect(r.status, `sniffer ${command} --help: exit ${r.status}; stderr: ${r.stderr}`).toBe(0);
    expect(r.stdout.startsWith(`usage: sniffer ${command}`), r.stdout.slice(0, 200)).toBe(true);
  });

  test.each(readme.npm)('npm run %s is a script of package.json', (script) => {
    expect(Object.keys(scripts)).toContain(script);
  });
});
