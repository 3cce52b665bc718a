import { readFileSync, readdirSync } from 'node:fs';
import { readCaptureFile } from '@callscope/pcap-store';
import { DEFAULT_PIPELINE_OPTIONS, PacketPipeline } from '@callscope/call-engine';
import type { CallRecord, RegisterRecord } from '@callscope/cdr-model';

/** The reference corpus (real sipp captures + tshark truth), copied into the repo's fixtures. */
export const CORPUS_DIR = new URL('../../../fixtures/corpus/', import.meta.url);

export interface TruthCall {
  call_id: string;
  from_user: string;
  to_user: string;
  caller_ip: string;
  callee_ip: string;
  caller_port: number;
  callee_port: number;
  transport: string;
  invite_time: number;
  answer_time: number | null;
  bye_time: number | null;
  end_time: number;
  final_sip_code: number | null;
  bye_by: 'caller' | 'callee' | null;
  state: string;
  sip_messages: number;
}

export interface TruthStream {
  ssrc: string;
  src: string;
  src_port: number;
  dst: string;
  dst_port: number;
  packets: number;
  lost: number;
  seq_errors: number | null;
  max_delta_ms: number;
  max_jitter_ms: number;
  mean_jitter_ms: number;
  sharkd_max_jitter_ms: number | null;
  sharkd_mean_jitter_ms: number | null;
  sharkd_max_delta_ms: number | null;
  payload_type: number;
  start_time: number;
  end_time: number;
  call_id: string | null;
}

export interface TruthRegister {
  call_id: string;
  from_user: string;
  to_user: string;
  client_ip: string;
  registrar_ip: string;
  first_packet_time: number;
  final_sip_code: number | null;
  challenged: boolean;
  transactions: { cseq: number; expires: number | null; final_sip_code: number | null }[];
}

export interface Truth {
  file: string;
  capture: { packets: number };
  calls: TruthCall[];
  rtp_streams: TruthStream[];
  registers: TruthRegister[];
}

/** Every capture of the corpus with its truth file. */
export function corpusCaptures(): { name: string; path: string; truth: Truth }[] {
  return readdirSync(CORPUS_DIR)
    .filter((f) => f.endsWith('.truth.json'))
    .sort()
    .map((f) => {
      const truth = JSON.parse(readFileSync(new URL(f, CORPUS_DIR), 'utf8')) as Truth;
      return { name: truth.file, path: new URL(truth.file, CORPUS_DIR).pathname, truth };
    });
}

/** Runs a capture through the sniffer's pipeline as `analyze` does. */
export async function analyzeFile(path: string): Promise<{ calls: CallRecord[]; registers: RegisterRecord[]; pipeline: PacketPipeline }> {
  const calls: CallRecord[] = [];
  const registers: RegisterRecord[] = [];
  const pipeline = new PacketPipeline(DEFAULT_PIPELINE_OPTIONS, { onCall: (c) => calls.push(c), onRegister: (r) => registers.push(r) });
  await readCaptureFile(path, (rec) => {
    pipeline.onPacket(rec);
  });
  pipeline.finish();
  return { calls, registers, pipeline };
}

/**
 * Epoch seconds as written in a truth file to the CDR's ISO text, rounded to the microsecond.
 * Works on the decimal digits (not `t * 1e6`) so float noise cannot move a value by a microsecond.
 */
export function isoFromEpoch(t: number): string {
  const [whole = '0', frac = ''] = String(t).split('.');
  const ns = Number(frac.padEnd(9, '0').slice(0, 9));
  let sec = Number(whole);
  let us = Math.round(ns / 1000);
  if (us === 1_000_000) {
    sec++;
    us = 0;
  }
  return `${new Date(sec * 1000).toISOString().slice(0, 19)}.${String(us).padStart(6, '0')}Z`;
}

/** The CDR's ISO text back to integer microseconds since the epoch. */
export function isoToMicros(iso: string): number {
  return Date.parse(`${iso.slice(0, 19)}Z`) * 1000 + Number(iso.slice(20, 26));
}
