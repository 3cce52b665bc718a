/**
 * @callscope/call-engine: follows every SIP dialog and its media. Frames go in (any source: a
 * capture file, libpcap, a mirror stream, HEP), call and registration records come out through
 * {@link RecordObserver}, and each call's packets through {@link CallPacketObserver}. Pure: no
 * files, no database, no clock but packet time (apps `tick` it on idle links).
 * This file is the package's only public surface.
 */
export type { CallKey, CallPacketKind, CallPacketObserver, RecordObserver } from './call-observers.js';
export { DEFAULT_PIPELINE_OPTIONS, PACKET_FATE_NAMES, PacketFate, PacketPipeline } from './packet-pipeline.js';
export type { PipelineCounters, PipelineOptions, PipelineStats } from './packet-pipeline.js';
export { DEFAULT_CALL_TABLE_OPTIONS } from './call-table.js';
export type { CallTableCounters, CallTableOptions, ShedLevel } from './call-table.js';
export { DEFAULT_ACTIVE_CALLS_LIMIT } from './active-calls.js';
export type { ActiveCallDetail, ActiveCallState, ActiveCallSummary, ActiveCallsOptions, ActiveStreamSummary } from './active-calls.js';
export { DEFAULT_REGISTER_TABLE_OPTIONS } from './register-table.js';
export type { RegisterTableOptions } from './register-table.js';
