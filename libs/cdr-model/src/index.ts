/**
 * @callscope/cdr-model: the records of the CDR contract (DESIGN.md "`sniffer analyze`"): one call
 * or registration per jsonl line, the same objects the MySQL writer stores, and the microsecond
 * time text they carry, and the checks a record must pass before it is stored. Pure: no I/O, no
 * database.
 * This file is the package's only public surface.
 */
export type {
  AnalyzeRecord,
  BranchProvisionalRecord,
  BranchRecord,
  CallDropped,
  CallRecord,
  CallSide,
  DtmfMethod,
  DtmfRecord,
  EndReason,
  LegLinkKind,
  LinkedLegRecord,
  RegisterRecord,
  RegisterResult,
  RtcpSummary,
  SessionIdRecord,
  SipResponseRecord,
  SipTransport,
  StreamCodecRecord,
  StreamRecord,
} from './cdr-record.js';
export { CALL_DROPPED_KEYS, END_REASONS, REGISTER_RESULTS, SIP_TRANSPORTS } from './cdr-record.js';
export type { IsoMicros } from './iso-micros.js';
export { formatIsoMicros, isIsoMicros, isoFromMicros, parseIsoMicros, secondsBetween, toMicros } from './iso-micros.js';
export { CORRELATION_HEADER_PATTERN, isCorrelationHeaderName, validateCallRecord, validateRegisterRecord } from './record-validation.js';
export type { IpTextParser } from './record-validation.js';
export { ssrcToNumber, ssrcToText } from './ssrc-text.js';
