import { readCaptureFile } from '@callscope/pcap-store';
import { DEFAULT_PIPELINE_OPTIONS, PacketPipeline, type PipelineOptions } from '@callscope/call-engine';
import type { CallRecord, RegisterRecord } from '@callscope/cdr-model';

/** Runs a capture through the sniffer's pipeline as `analyze` does (default settings unless given). */
export async function analyzeFile(
  path: string,
  options: PipelineOptions = DEFAULT_PIPELINE_OPTIONS,
): Promise<{ calls: CallRecord[]; registers: RegisterRecord[]; pipeline: PacketPipeline }> {
  const calls: CallRecord[] = [];
  const registers: RegisterRecord[] = [];
  const pipeline = new PacketPipeline(options, { onCall: (c) => calls.push(c), onRegister: (r) => registers.push(r) });
  await readCaptureFile(path, (rec) => {
    pipeline.onPacket(rec);
  });
  pipeline.finish();
  return { calls, registers, pipeline };
}
