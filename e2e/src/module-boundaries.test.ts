/**
 * The architecture of DESIGN.md/STYLE.md is enforced by lint: these probes are linted as if they
 * were files of the named projects (nothing is written to the tree), and each forbidden import
 * must be reported.
 */
import { join } from 'node:path';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, test } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;
// Type-aware rules need files on disk; the boundary rules do not, so they are switched off here.
const eslint = new ESLint({ cwd: root, overrideConfig: [{ files: ['**/*.ts'], ...tseslint.configs.disableTypeChecked }] });

async function ruleIds(project: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: join(root, project, 'src/boundary-probe.ts') });
  return (result?.messages ?? []).map((m) => `${m.ruleId ?? 'fatal'}: ${m.message}`);
}

describe('module boundaries', () => {
  test('a pure protocol lib may not import fastify', async () => {
    const ids = await ruleIds('libs/packet', "import fastify from 'fastify';\nexport const probe = fastify;\n");
    expect(ids.join('\n')).toMatch(/@nx\/enforce-module-boundaries: .*type:protocol.*fastify/);
  });

  test('a pure protocol lib may not do I/O (node:fs) or read process.env', async () => {
    const ids = await ruleIds('libs/rtp', "import { readFileSync } from 'node:fs';\nexport const probe = [readFileSync, process.env];\n");
    expect(ids.join('\n')).toMatch(/no-restricted-imports: 'node:fs'/);
    expect(ids.join('\n')).toMatch(/no-restricted-globals: .*process/);
  });

  test('an app may not import another app', async () => {
    const ids = await ruleIds('apps/sniffer', "import * as api from '@callscope/manager-api';\nexport const probe = api;\n");
    expect(ids.join('\n')).toMatch(/@nx\/enforce-module-boundaries/);
  });

  test('the util lib may not depend on a protocol lib', async () => {
    const ids = await ruleIds('libs/runtime', "import { PacketDecoder } from '@callscope/packet';\nexport const probe = PacketDecoder;\n");
    expect(ids.join('\n')).toMatch(/@nx\/enforce-module-boundaries: .*type:util/);
  });

  test('allowed imports pass: an app using its libs, a protocol lib using another', async () => {
    expect(await ruleIds('apps/sniffer', "import { PacketDecoder } from '@callscope/packet';\nexport const probe = PacketDecoder;\n")).toEqual([]);
    expect(await ruleIds('libs/pcap-store', "import { LinkType } from '@callscope/pcap-format';\nexport const probe = LinkType;\n")).toEqual([]);
    expect(await ruleIds('libs/call-engine', "import { PacketDecoder } from '@callscope/packet';\nexport const probe = PacketDecoder;\n")).toEqual([]);
    expect(await ruleIds('apps/sniffer', "import { PacketPipeline } from '@callscope/call-engine';\nexport const probe = PacketPipeline;\n")).toEqual([]);
  });

  test('the libpcap addon (a data lib) stays out of protocol and domain libs, apps may use it', async () => {
    const ids = await ruleIds('libs/packet', "import { LiveCapture } from '@callscope/live-capture';\nexport const probe = LiveCapture;\n");
    expect(ids.join('\n')).toMatch(/@nx\/enforce-module-boundaries: .*type:protocol/);
    expect(await ruleIds('apps/sniffer', "import { LiveCapture } from '@callscope/live-capture';\nexport const probe = LiveCapture;\n")).toEqual([]);
  });

  test('the call engine knows nothing of MySQL, files or the spool', async () => {
    const db = await ruleIds('libs/call-engine', "import { CdrWriter } from '@callscope/cdr-schema';\nexport const probe = CdrWriter;\n");
    expect(db.join('\n')).toMatch(/@nx\/enforce-module-boundaries: .*type:domain/);
    const store = await ruleIds('libs/call-engine', "import { SpoolWriter } from '@callscope/pcap-store';\nexport const probe = SpoolWriter;\n");
    expect(store.join('\n')).toMatch(/@nx\/enforce-module-boundaries: .*type:domain/);
    const io = await ruleIds('libs/call-engine', "import { writeFileSync } from 'node:fs';\nimport mysql from 'mysql2';\nexport const probe = [writeFileSync, mysql];\n");
    expect(io.join('\n')).toMatch(/no-restricted-imports: 'node:fs'/);
    expect(io.join('\n')).toMatch(/@nx\/enforce-module-boundaries: .*mysql2/);
  });

  test('a protocol lib may not depend on the call engine above it', async () => {
    // mirror-protocol: a protocol lib the engine does not use (for one it uses, Nx reports the
    // cycle before the tag rule).
    const ids = await ruleIds('libs/mirror-protocol', "import { PacketPipeline } from '@callscope/call-engine';\nexport const probe = PacketPipeline;\n");
    expect(ids.join('\n')).toMatch(/@nx\/enforce-module-boundaries: .*type:protocol/);
  });

  test('call-artifacts (a data lib) reads the spool and the protocol libs, not the call engine', async () => {
    expect(await ruleIds('libs/call-artifacts', "import { openCallPcap } from '@callscope/pcap-store';\nimport { RtpStreamStats } from '@callscope/rtp';\nexport const probe = [openCallPcap, RtpStreamStats];\n")).toEqual([]);
    const ids = await ruleIds('libs/call-artifacts', "import { PacketPipeline } from '@callscope/call-engine';\nexport const probe = PacketPipeline;\n");
    expect(ids.join('\n')).toMatch(/@nx\/enforce-module-boundaries: .*type:data/);
  });

  test('test helpers stay out of shipped code', async () => {
    const ids = await ruleIds('apps/sniffer', "import { corpusCaptures } from '@callscope/testing';\nexport const probe = corpusCaptures;\n");
    expect(ids.join('\n')).toMatch(/no-restricted-imports: .*@callscope\/testing/);
  });
});
