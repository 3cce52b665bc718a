/**
 * Types of `fixtures/corpus/NAME.truth.json`, the reference results of each corpus capture
 * (capinfos, tshark/sharkd 4.0.17, sngrep 1.6.0, the SIPp logs). Field names are the file's own
 * (snake_case). Semantics: fixtures/corpus/README.md, "Truth files". The shape is checked against
 * every truth file by libs/testing/test/truth-shape.test.ts, so a field added to the corpus fails
 * that test until it is declared here.
 */

/** `capture`: what capinfos says about the file. */
export interface TruthCapture {
  /** capinfos file type: `pcap`, `nsecpcap` or `pcapng`. */
  file_type: string;
  /** capinfos encapsulation: `ether`, `linux-sll`. */
  encapsulation: string;
  /** e.g. `microseconds (6)`, `nanoseconds (9)`. */
  timestamp_precision: string;
  /** Number of packets in the file. */
  packets: number;
  /** UTC `YYYY-MM-DD HH:MM:SS.fraction`; see {@link parseCapinfosTime}. */
  first_packet_time: string;
  /** UTC `YYYY-MM-DD HH:MM:SS.fraction`; see {@link parseCapinfosTime}. */
  last_packet_time: string;
}

/** `tools`: version strings of the tools that computed the truth. */
export interface TruthTools {
  tshark: string;
  sngrep: string;
}

/** One SDP body of a call (`calls[].sdp[]`). */
export interface TruthSdp {
  /** Epoch seconds of the message. */
  time: number;
  /** Source address of the message. */
  from: string;
  /** The carrying message: `INVITE`, `200 INVITE` (a response is "code method"). */
  what: string;
  /** CSeq number of the message. */
  cseq: number;
  /** Connection address (`c=`) of the first media. */
  ip: string;
  /** Port of every `m=` line, in order. */
  ports: number[];
  /** tshark's names of the formats (`ITU-T G.711 PCMU`, `DynamicRTP-Type-101`). */
  formats: string[];
  /** Effective direction attribute of the first media: `sendrecv`, `sendonly`, `recvonly`, `inactive`. */
  direction: string;
}

/** Call states of the truth files (Wireshark's VoIP Calls dialog names). */
export type TruthCallState = 'COMPLETED' | 'IN CALL' | 'CANCELLED' | 'REJECTED' | 'CALL SETUP';

/** One SIP Call-ID with an INVITE (`calls[]`), in order of first packet. Times are epoch seconds. */
export interface TruthCall {
  call_id: string;
  from_user: string;
  to_user: string;
  ruri_user: string;
  /** Source of the initial INVITE as seen in the capture. */
  caller_ip: string;
  /** Destination of the initial INVITE as seen in the capture. */
  callee_ip: string;
  caller_port: number;
  callee_port: number;
  /** `udp` or `tcp`. */
  transport: string;
  first_packet_time: number;
  invite_time: number;
  /** First 180/183, null if none. */
  ringing_time: number | null;
  /** First 2xx to the initial INVITE, null if none. */
  answer_time: number | null;
  bye_time: number | null;
  /** 200 OK to the first BYE (the BYE if unanswered); final response; else the last SIP packet. */
  end_time: number;
  last_packet_time: number;
  /** First final response to the initial INVITE, null if none. */
  final_sip_code: number | null;
  bye_by: 'caller' | 'callee' | null;
  state: TruthCallState;
  /** The state sngrep 1.6.0 shows; null where sngrep cannot read the encapsulation. */
  sngrep_state: string | null;
  cancelled: boolean;
  /** Initial INVITE including retransmissions. */
  invite_requests: number;
  reinvites: number;
  sip_messages: number;
  /** end_time - answer_time for answered calls that ended, else null. */
  duration_s: number | null;
  /** Every SDP body of the call. */
  sdp: TruthSdp[];
}

/** One row of `tshark -q -z rtp,streams` (RTP decoded from the SDP in the capture). */
export interface TruthTsharkRtpStream {
  /** `0x` + 8 lower-case hex digits. */
  ssrc: string;
  src: string;
  src_port: number;
  dst: string;
  dst_port: number;
  /** tshark's payload text (`g711A`, `g711U, telephone-event`). */
  payload: string;
  packets: number;
  /** Expected - received; negative with duplicates. */
  lost: number;
  lost_pct: number;
  min_delta_ms: number;
  mean_delta_ms: number;
  max_delta_ms: number;
  /** RFC 3550 interarrival jitter. */
  min_jitter_ms: number;
  mean_jitter_ms: number;
  max_jitter_ms: number;
  problem: boolean;
  /** Seconds from the first packet of the file. */
  start_rel: number;
  end_rel: number;
}

/** `rtp_streams[]`: a tshark row plus sharkd's analysis of the same stream and packet-derived fields. */
export interface TruthRtpStream extends TruthTsharkRtpStream {
  /** Wireshark's sequence error count; null where sharkd gave no analysis. */
  seq_errors: number | null;
  sharkd_packets: number | null;
  sharkd_max_jitter_ms: number | null;
  sharkd_mean_jitter_ms: number | null;
  sharkd_max_delta_ms: number | null;
  sharkd_expected: number | null;
  sharkd_problem: boolean | null;
  /** Most frequent payload type. */
  payload_type: number;
  payload_types: number[];
  /** Epoch seconds of the first packet. */
  start_time: number;
  end_time: number;
  /** The call whose SDP announced the stream's destination, null if none. */
  call_id: string | null;
}

/** One REGISTER transaction (`registers[].transactions[]`). */
export interface TruthRegisterTransaction {
  cseq: number;
  time: number;
  /** Expires asked for, null if the request names none. */
  expires: number | null;
  /** An Authorization header was sent. */
  authorization: boolean;
  final_sip_code: number | null;
  /** Answered 401/407. */
  challenge: boolean;
  response_time: number | null;
}

/** One Call-ID with REGISTER (`registers[]`). */
export interface TruthRegister {
  call_id: string;
  from_user: string;
  to_user: string;
  client_ip: string;
  registrar_ip: string;
  first_packet_time: number;
  /** Of the last transaction. */
  final_sip_code: number | null;
  /** 401/407 seen. */
  challenged: boolean;
  transactions: TruthRegisterTransaction[];
}

/**
 * Another dialog (`other_sip[]`: OPTIONS ...). No corpus capture has one yet: the fields are the
 * README's list, unchecked against data.
 */
export interface TruthOtherSip {
  call_id: string;
  method: string;
  from_user: string;
  to_user: string;
  src: string;
  dst: string;
  time: number;
  requests: number;
  final_sip_code: number | null;
}

/** `sip_stat`: counts from `tshark -q -z sip,stat`. */
export interface TruthSipStat {
  /** Responses by status code (the key is the code as text). */
  responses: Record<string, number>;
  /** Requests by method. */
  requests: Record<string, number>;
  messages: number;
  resent_packets: number;
  /** tshark's text, line by line. */
  raw: string[];
}

/** `impairment_applied` (impaired captures): caller-to-callee RTP as the impairing router counted it. */
export interface TruthImpairmentApplied {
  seen: number;
  dropped: number;
  duplicated: number;
  sent: number;
}

/** What one SIPp agent logged for one Call-ID. */
export interface TruthSippCall {
  /** Epoch seconds of the agent's first message. */
  first: number;
  messages: number;
  final_invite_code: number | null;
  /** `sent`, `received`, or null without a BYE. */
  bye: string | null;
}

/** One SIPp agent's log: its statistics counters and its calls by Call-ID. */
export interface TruthSippAgent {
  /** SIPp statistics (`SuccessfulCall(C)`: 1, `CallRate(C)`: "0.05"). */
  stats: Record<string, number | string>;
  calls: Record<string, TruthSippCall>;
}

/** `sipp`: the SIPp agents of the scenario (a second client where two callers ran). */
export interface TruthSipp {
  uac: TruthSippAgent;
  uac2?: TruthSippAgent;
  /** Absent where no SIPp server answered (the kamailio registrar did). */
  uas?: TruthSippAgent;
}

/** `scenario`: the traffic and the capture point. */
export interface TruthScenario {
  description: string;
  capture_point: string;
  /** Encapsulated copies: `vlan`, `qinq`, `gre`, `ipip`, `vxlan`, `erspan2`. */
  encapsulation?: string;
  /** Impaired captures: netem settings (percentages in %, times in ms). */
  impairment?: { loss?: number; delay?: number; jitter?: number; reorder?: number };
  /** Mixed-outcome captures: planned number of calls per outcome. */
  planned_outcomes?: Record<string, number>;
}

/** A whole `NAME.truth.json`. */
export interface CorpusTruth {
  /** The capture's file name (`NAME.pcap` or `NAME.pcapng`). */
  file: string;
  capture: TruthCapture;
  tools: TruthTools;
  calls: TruthCall[];
  rtp_streams: TruthRtpStream[];
  /** Streams tshark finds only with `-o rtp.heuristic_rtp:TRUE`. */
  rtp_streams_heuristic_only: TruthTsharkRtpStream[];
  registers: TruthRegister[];
  other_sip: TruthOtherSip[];
  sip_stat: TruthSipStat;
  /** Disagreements between the tools. */
  notes: string[];
  sipp: TruthSipp;
  impairment_applied?: TruthImpairmentApplied;
  scenario: TruthScenario;
}
