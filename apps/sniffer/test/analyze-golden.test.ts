/**
 * Issue 11's guard for the move of the call engine into libs: the jsonl of every corpus capture
 * and of the demo capture, byte for byte, as `sniffer analyze --format jsonl` printed it before
 * the move (test/fixtures/analyze-golden/, written by the pre-move build at 94d3b82). The corpus
 * test checks the numbers against tshark; this one checks that nothing else moved either (field
 * order, rounding, record order). A deliberate change of the output regenerates the files with
 * `node dist/apps/sniffer/main.js analyze <capture> --format jsonl` and says so in its commit.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { DEFAULT_PIPELINE_OPTIONS, PacketPipeline } from '@callscope/call-engine';
import { readCaptureFile } from '@callscope/pcap-store';
import { describe, expect, test } from 'vitest';

const GOLDEN = new URL('./fixtures/analyze-golden/', import.meta.url);
const FIXTURES = new URL('../../../fixtures/', import.meta.url);

const captures = readdirSync(GOLDEN)
  .filter((f) => f.endsWith('.jsonl'))
  .sort()
  .map((golden) => {
    const name = golden.slice(0, -'.jsonl'.length);
    const dir = name.startsWith('demo-') ? 'demo/' : 'corpus/';
    const file = readdirSync(new URL(dir, FIXTURES)).find((f) => f === `${name}.pcap` || f === `${name}.pcapng`);
    if (file === undefined) throw new Error(`no capture for golden file ${golden}`);
    return { name, golden, path: new URL(dir + file, FIXTURES).pathname };
  });

describe('analyze output is byte-identical to the pre-move golden files', () => {
  test('every corpus capture and the demo have a golden file', () => {
    expect(captures.length).toBe(24);
  });

  test.each(captures)('$name', async ({ golden, path }) => {
    let out = '';
    const pipeline = new PacketPipeline(DEFAULT_PIPELINE_OPTIONS, {
      onCall: (r) => (out += `${JSON.stringify(r)}\n`),
      onRegister: (r) => (out += `${JSON.stringify(r)}\n`),
    });
    await readCaptureFile(path, (rec) => {
      pipeline.onPacket(rec);
    });
    pipeline.finish();
    expect(out).toBe(readFileSync(new URL(golden, GOLDEN), 'utf8'));
  });
});
