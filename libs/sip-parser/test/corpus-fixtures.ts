// Loads the tshark-extracted corpus fixtures (written by test/fixtures/extract.py).
import { readFileSync, readdirSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

/** One SIP message as tshark 4.0 dissected it. */
export interface FixtureMessage {
  frame: number;
  payload: string;
  tshark: Record<string, string[] | undefined>;
}

/** One TCP segment of a capture. */
export interface FixtureSegment {
  frame: number;
  stream: number;
  src: string;
  dst: string;
  seq: number;
  syn: boolean;
  fin: boolean;
  rst: boolean;
  payload: string;
}

/** A capture's fixture file. */
export interface CaptureFixture {
  capture: string;
  messages: FixtureMessage[];
  segments?: FixtureSegment[];
}

const DIR = new URL('./fixtures/', import.meta.url);

/** Every capture fixture, sorted by name. */
export function loadCaptureFixtures(): CaptureFixture[] {
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.sip.json') || f.endsWith('.sip.json.gz'))
    .sort()
    .map((f) => {
      const raw = readFileSync(new URL(f, DIR));
      const text = f.endsWith('.gz') ? gunzipSync(raw).toString('utf8') : raw.toString('utf8');
      return JSON.parse(text) as CaptureFixture;
    });
}

/** Hex string to bytes. */
export function hexToBytes(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}
