#!/usr/bin/env node
// Builds and checks callscope's libpcap addon (build/Release/live_capture.node) with the node-gyp
// that npm bundles. Used by scripts/ensure.mjs (`--cap`, run by npm start and npm test) and by
// hand: `node libs/live-capture/native/build.mjs [--force]`; npm install runs it with --optional
// (exit 0 when it cannot build). Says exactly what is missing (build
// tools, libpcap headers, libpcap's shared library); never needed for offline analysis.
/* global process */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const LIB_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
export const ADDON = join(LIB_DIR, 'build/Release/live_capture.node');
const STAMP = join(LIB_DIR, 'build/Release/built-with.json');
const SOURCES = ['native/live_capture.c', 'binding.gyp'].map((f) => join(LIB_DIR, f));

const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const hasLibpcapHeaders = () => existsSync('/usr/include/pcap/pcap.h') || existsSync('/usr/include/pcap.h');

/** Debian packages missing to build the addon (node-gyp's make, g++, python3; libpcap-dev). */
export function missingForBuild() {
  const missing = [['make', 'make'], ['g++', 'g++'], ['python3', 'python3']].filter(([cmd]) => !have(cmd)).map(([, pkg]) => pkg);
  if (!hasLibpcapHeaders()) missing.push('libpcap-dev');
  return missing;
}

/** What this Node is: a build for another one is redone (Node-API is stable, but headers and toolchain follow it). */
const runtime = () => ({ node: process.version, modules: process.versions.modules, napi: process.versions.napi });

/**
 * Why the addon needs (re)building, or null when it is current: missing, older than its C
 * source or binding.gyp, or built by another Node.js.
 */
export function staleReason() {
  if (!existsSync(ADDON)) return 'not built';
  const built = statSync(ADDON).mtimeMs;
  const newer = SOURCES.find((s) => existsSync(s) && statSync(s).mtimeMs > built);
  if (newer) return `older than ${newer.slice(LIB_DIR.length + 1)}`;
  let stamp = null;
  try {
    stamp = JSON.parse(readFileSync(STAMP, 'utf8'));
  } catch {
    return 'built by an unknown Node.js (no build/Release/built-with.json)';
  }
  const now = runtime();
  if (stamp.modules !== now.modules || stamp.napi !== now.napi) return `built for Node.js ${stamp.node}, this is ${now.node}`;
  return null;
}

/** Loads the addon in a child process (a crash cannot take the caller down): `{ ok, detail? , libpcap? }`. */
export function probe() {
  const code = `try { const b = require(${JSON.stringify(ADDON)}); process.stdout.write(JSON.stringify({ ok: true, libpcap: b.libVersion() })); }
    catch (e) { process.stdout.write(JSON.stringify({ ok: false, detail: String(e && e.message).split('\\n')[0] })); }`;
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8' });
  try {
    return JSON.parse(r.stdout);
  } catch {
    return { ok: false, detail: `loading the addon crashed node (${r.signal ?? `exit ${r.status}`})` };
  }
}

/** The node-gyp npm ships (no extra dependency). */
function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
    '/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
    '/usr/local/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
  ].filter(Boolean);
  return candidates.find((p) => existsSync(p)) ?? null;
}

/**
 * Runs `node-gyp rebuild` in libs/live-capture. Node's own headers are used when they sit beside
 * this node binary (Debian's nodejs, the official tarballs), so no download is needed.
 * @param log - where node-gyp's output goes (fd), 2 by default
 * @returns null on success, else what failed
 */
export function build(log = 2) {
  const missing = missingForBuild();
  if (missing.length > 0) return `missing ${missing.join(', ')} (Debian/Ubuntu: apt-get install -y ${missing.join(' ')})`;
  const gyp = nodeGyp();
  if (gyp === null) return 'node-gyp not found (it comes with npm: reinstall npm)';
  const prefix = join(dirname(process.execPath), '..');
  const nodedir = existsSync(join(prefix, 'include/node/node_api.h')) && existsSync(join(prefix, 'include/node/common.gypi')) ? [`--nodedir=${prefix}`] : [];
  const r = spawnSync(process.execPath, [gyp, 'rebuild', ...nodedir], { cwd: LIB_DIR, stdio: ['ignore', log, log] });
  if (r.status !== 0) return `node-gyp rebuild failed (exit ${r.status ?? r.signal}); its output above says why`;
  writeFileSync(STAMP, JSON.stringify(runtime()) + '\n');
  return null;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const say = (m) => process.stderr.write(`[live-capture] ${m}\n`);
  const optional = process.argv.includes('--optional');
  const reason = process.argv.includes('--force') ? 'forced' : staleReason();
  if (reason !== null) {
    say(`building the libpcap addon (${reason})`);
    const failed = build();
    if (failed !== null) {
      say(`cannot build: ${failed}. Live capture is off until then; offline analysis works.`);
      // --optional (npm install): a machine without build tools still installs everything else.
      process.exit(optional ? 0 : 1);
    }
  }
  const p = probe();
  if (!p.ok) {
    say(`built but does not load: ${p.detail}${/libpcap\.so/.test(p.detail) ? ' (apt-get install --reinstall -y libpcap0.8)' : ''}`);
    process.exit(optional ? 0 : 1);
  }
  say(`addon loads (${p.libpcap})`);
}
