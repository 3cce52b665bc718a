/**
 * @callscope/testing: the reference corpus for tests (fixtures/corpus): its loader, the types of
 * its truth files, time helpers to compare with them, and an in-memory capture reader built on
 * `@callscope/pcap-format`. Tests only: lint refuses it in shipped `src/`.
 * This file is the package's only public surface.
 */
export { readCaptureRecords, readCorpusRecords } from './capture-records.js';
export { CORPUS_DIR, corpusCaptures, corpusPath, readTruth } from './corpus.js';
export type { CorpusCapture } from './corpus.js';
export type {
  CorpusTruth,
  TruthCall,
  TruthCallState,
  TruthCapture,
  TruthImpairmentApplied,
  TruthOtherSip,
  TruthRegister,
  TruthRegisterTransaction,
  TruthRtpStream,
  TruthScenario,
  TruthSdp,
  TruthSipStat,
  TruthSipp,
  TruthSippAgent,
  TruthSippCall,
  TruthTools,
  TruthTsharkRtpStream,
} from './truth.js';
export { oggPackets, pcmOf, runTool, snrDb } from './audio-oracle.js';
export { isoFromEpoch, isoToMicros, parseCapinfosTime } from './truth-time.js';
export { PrivateMariaDb } from './private-mariadb.js';
export { SIP_CALLS_PCAP_START_SEC, sipCallsPcapCallId, writeSipCallsPcap } from './sip-calls-pcap.js';
export type { SipCallsPcapOptions, SipCallsPcapResult } from './sip-calls-pcap.js';
