/**
 * The web GUI's JSON API as the browser sees it: one set of types shared by the Fastify server
 * (`src/`) and the front end (`client/`, type-only imports), so the two cannot drift apart.
 * Every route lives under `/api/v1` on the GUI's own port; errors are
 * `{"error": {"code", "message"}}` with the codes of `api-errors.ts`.
 *
 * Routes (auth: a session cookie from `POST /api/v1/login`; every state-changing request also
 * carries the session's CSRF token in the `x-csrf-token` header):
 *
 * | method, path | auth | body / query | answer |
 * |---|---|---|---|
 * | `GET /api/v1/health` | none | – | {@link GuiHealthBody} |
 * | `POST /api/v1/login` | none | {@link LoginRequest} | {@link SessionBody} + `Set-Cookie` |
 * | `POST /api/v1/logout` | session + CSRF | – | 204 |
 * | `GET /api/v1/session` | session | – | {@link SessionBody} (401 when logged out) |
 * | `GET /api/v1/sensors` | session | – | {@link SensorSummary}[] |
 * | `GET /api/v1/calls` | session | {@link CallSearchQuery} | {@link CallSearchPage} |
 * | `GET /api/v1/calls/export` | session | {@link CallSearchQuery} + `format=csv|jsonl` | streamed file, every match (no page limit, capped at 1 M rows) |
 * | `GET /api/v1/calls/{id}?start=ISO` | session | – | {@link CallDetailBody} |
 * | `GET /api/v1/calls/{id}/related?start=ISO` | session | – | {@link RelatedCallsBody} |
 * | `GET /api/v1/calls/{id}/sip?start=ISO` | session | – | `CallSipLadder` (libs/call-artifacts), from the call's sensor |
 * | `GET /api/v1/calls/{id}/streams?start=ISO` | session | – | `CallStreamSeries` (libs/call-artifacts), from the call's sensor |
 * | `GET /api/v1/calls/{id}/pcap?start=ISO` | session | – | `application/vnd.tcpdump.pcap`, streamed, with Content-Disposition |
 * | `GET /api/v1/calls/{id}/audio?start=ISO&legs=stereo|caller|callee|mixed` | session | – | `audio/wav`, streamed (Range not needed: the player loads it whole) |
 *
 * `{id}` is the CDR's database id (`cdr.id`) and `start` the call's start as stored; the server
 * looks the call up by both and asks the sensor that recorded it (by `sensor_id`) for its
 * artifacts, so a viewer never names a sensor, a Call-ID or a path.
 *
 * @packageDocumentation
 */
import type { CallRecord, EndReason, IsoMicros } from '@callscope/cdr-model';

/** Body of `GET /api/v1/health`. */
export interface GuiHealthBody {
  readonly status: 'ok';
  readonly version: string;
  readonly uptimeS: number;
  readonly sensors: number;
}

/** Body of `POST /api/v1/login`. */
export interface LoginRequest {
  readonly username: string;
  readonly password: string;
}

/** The logged-in user and the CSRF token the browser sends back on state-changing requests. */
export interface SessionBody {
  readonly user: { readonly name: string; readonly role: 'admin' | 'viewer' };
  readonly csrfToken: string;
}

/** One entry of `GET /api/v1/sensors`: what the browser may know of a sensor (never its token). */
export interface SensorSummary {
  readonly id: number;
  readonly name: string;
  /** manager-api base URL with any password removed; null when only the database knows the sensor. */
  readonly managerUrl: string | null;
  /** Last heartbeat the sensor wrote to the `sensors` table (null: never). */
  readonly heartbeat: IsoMicros | null;
  /**
   * Sensor daemon state from its last heartbeat (`running`, `stopped`, ...), null when unknown.
   * For a mirrored sensor: its holder's state while it is connected there, else `disconnected`.
   */
  readonly state: string | null;
  /**
   * For a mirrored sensor (a mirror-sender): the name of the sniffer that receives it and holds its
   * packets (`managerUrl` and `heartbeat` are then that sniffer's). Null for a sniffing sensor.
   */
  readonly mirroredBy: string | null;
}

/** Sortable columns of the call list; the default is `start` descending (newest first). */
export type CallSortKey = 'start' | 'duration' | 'mos_worst' | 'caller' | 'called' | 'last_sip_code';

/**
 * Query string of `GET /api/v1/calls` (and of the front end's `/calls` URL, so a search link can
 * be shared). Every key is optional but the time range, which defaults to the last hour.
 * Numbers travel as decimal strings.
 */
export interface CallSearchQuery {
  /** Calls starting at or after (ISO-8601; default: one hour before `to`). */
  from?: string;
  /** Calls starting before (ISO-8601; default: now). */
  to?: string;
  /** Caller number/user: `prefix`, `suffix` or `contains` per `caller_match` (default prefix). */
  caller?: string;
  caller_match?: 'prefix' | 'suffix' | 'contains';
  called?: string;
  called_match?: 'prefix' | 'suffix' | 'contains';
  /** Either party's signalling address: an IPv4/IPv6 address or a CIDR. */
  ip?: string;
  /** Exact Call-ID. */
  call_id?: string;
  /** Sensor id. */
  sensor?: string;
  /** Final SIP code (`486`) or class (`4xx`). */
  code?: string;
  /** Duration in seconds, bounds included. */
  duration_min?: string;
  duration_max?: string;
  /** Worst main-stream MOS below this. */
  mos_below?: string;
  /** Loss of either main stream at or above this percentage. */
  loss_above?: string;
  /** Max jitter of either main stream at or above this many ms. */
  jitter_above?: string;
  /** Codec name of either main stream at any time of the call (`PCMA`, `G729`, ...; also a codec it changed to). */
  codec?: string;
  /**
   * One identifier of a leg, matched exactly: a Call-ID, an X-CID, a P-Charging-Vector icid, an
   * RFC 7989 Session-ID UUID (with or without dashes, any case) or a correlation header's value.
   */
  leg?: string;
  end_reason?: EndReason;
  /** Sort column, `-` prefix for descending (default `-start`). */
  sort?: string;
  /** Rows per page (1..1000, default 200). */
  limit?: string;
  /** Opaque keyset cursor from {@link CallSearchPage.next}. */
  cursor?: string;
}

/** One row of the call list. */
export interface CallListRow {
  /** `cdr.id`; with `start`, the key of the call detail. */
  readonly id: number;
  readonly start: IsoMicros;
  readonly answer: IsoMicros | null;
  readonly end: IsoMicros;
  readonly duration: number;
  readonly connect_duration: number | null;
  readonly pdd_ms: number | null;
  readonly sensor_id: number;
  readonly sensor: string;
  readonly call_id: string;
  readonly caller: string;
  readonly called: string;
  readonly caller_ip: string;
  readonly callee_ip: string;
  readonly last_sip_code: number | null;
  readonly last_sip_reason: string | null;
  readonly end_reason: EndReason;
  readonly bye_by: 'caller' | 'callee' | null;
  readonly mos_worst: number | null;
  /** Caller-side (`a_`) and callee-side (`b_`) main streams; null when the side had no stream. */
  readonly a_mos: number | null;
  readonly b_mos: number | null;
  readonly a_loss_pct: number | null;
  readonly b_loss_pct: number | null;
  readonly a_jitter_max_ms: number | null;
  readonly b_jitter_max_ms: number | null;
  readonly a_codec: string | null;
  readonly b_codec: string | null;
  /**
   * Every codec the side's main stream carried, in order, comma-separated (`PCMA,PCMU` after a
   * re-INVITE switched codecs); null without a stream, and for calls stored before the list existed.
   */
  readonly a_codecs: string | null;
  readonly b_codecs: string | null;
  /** The sensor dropped some of this call's packets (see `CallRecord.dropped`). */
  readonly incomplete: boolean;
}

/** Body of `GET /api/v1/calls`. */
export interface CallSearchPage {
  readonly calls: readonly CallListRow[];
  /** Cursor of the next page in the same order; null on the last page. */
  readonly next: string | null;
  /** Server time spent on the query, ms (shown small in the list footer). */
  readonly tookMs: number;
}

/** Body of `GET /api/v1/calls/{id}`: the whole record as the sensor wrote it, plus its keys. */
export interface CallDetailBody {
  readonly id: number;
  readonly sensor_id: number;
  readonly call: CallRecord;
  /** The sensor that holds the call's packets has a manager-api the GUI can reach. */
  readonly artifacts: boolean;
}

/**
 * How a related leg relates to the call, strongest first; a leg related in several ways is listed
 * once with the strongest. `x_cid`: one's X-CID is the other's Call-ID, or both carry the same
 * X-CID; `session_id`: the same RFC 7989 Session-ID; `icid`: the same P-Charging-Vector icid;
 * `header`: the same value of the same configured correlation header (these four within an hour
 * of the call's start); `same_numbers`: the same two numbers, either way, within 10 s.
 */
export type CallRelation = 'x_cid' | 'session_id' | 'icid' | 'header' | 'same_numbers';

/** One leg of {@link RelatedCallsBody}. */
export interface RelatedCallRow extends CallListRow {
  readonly relation: CallRelation;
  /** The correlation header's name for `relation: 'header'`, else null. */
  readonly relation_header: string | null;
}

/** Body of `GET /api/v1/calls/{id}/related`: other legs of the same conversation, oldest first. */
export interface RelatedCallsBody {
  readonly calls: readonly RelatedCallRow[];
}
