import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CorpusTruth } from './truth.js';

/** Absolute path of the reference corpus, `fixtures/corpus` at the repository root. */
export const CORPUS_DIR = fileURLToPath(new URL('../../../fixtures/corpus', import.meta.url));

const TRUTH_SUFFIX = '.truth.json';
const CAPTURE_EXTENSION = /\.pcap(ng)?$/;

/** One corpus capture with its truth file. */
export interface CorpusCapture {
  /** The capture's file name, e.g. `ipv6-call.pcap`, `register-auth.pcapng`. */
  name: string;
  /** The name without its extension, e.g. `ipv6-call` (also the truth file's stem). */
  stem: string;
  /** Absolute path of the capture. */
  path: string;
  /** The parsed truth file. */
  truth: CorpusTruth;
}

/**
 * Absolute path of a file in the corpus.
 * @throws Error when the file does not exist (a typo should fail the test that made it, loudly)
 */
export function corpusPath(fileName: string): string {
  const path = join(CORPUS_DIR, fileName);
  if (!existsSync(path)) throw new Error(`${fileName} is not in ${CORPUS_DIR}`);
  return path;
}

/**
 * The truth file of one capture.
 * @param name - the capture's stem (`ipv6-call`) or file name (`ipv6-call.pcap`)
 * @throws Error when there is no such truth file
 */
export function readTruth(name: string): CorpusTruth {
  const stem = name.replace(CAPTURE_EXTENSION, '');
  return JSON.parse(readFileSync(corpusPath(`${stem}${TRUTH_SUFFIX}`), 'utf8')) as CorpusTruth;
}

/**
 * Every capture of the corpus that has a truth file, sorted by truth file name (which is the
 * capture order of the corpus README). Reads and parses every truth file on each call.
 * @throws Error when a truth file names a capture that does not exist
 */
export function corpusCaptures(): CorpusCapture[] {
  return readdirSync(CORPUS_DIR)
    .filter((f) => f.endsWith(TRUTH_SUFFIX))
    .sort()
    .map((f) => {
      const truth = readTruth(f.slice(0, -TRUTH_SUFFIX.length));
      return { name: truth.file, stem: truth.file.replace(CAPTURE_EXTENSION, ''), path: corpusPath(truth.file), truth };
    });
}
