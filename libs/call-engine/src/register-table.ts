import { ownText, ownTextOrNull, sharedText, sharedTextOrNull } from './compact-values.js';
import { PacketClock } from './packet-clock.js';
import type { SipEvent } from './sip-event.js';
import { isoFromMicros, type RegisterRecord, type RegisterResult } from '@callscope/cdr-model';

/** Limits of the registration table, in packet time. */
export interface RegisterTableOptions {
  sensor: string;
  /** Most registration dialogs followed at once; the oldest is written out past it (counted). */
  maxOpen: number;
  /** A dialog whose last transaction has its final response is written this long after its last message. */
  idleS: number;
  /** A REGISTER without final response is a timeout after this long (RFC 3261 Timer F, 64*T1). */
  transactionTimeoutS: number;
}

export const DEFAULT_REGISTER_TABLE_OPTIONS: RegisterTableOptions = {
  sensor: 'sensor1',
  maxOpen: 100_000,
  idleS: 10,
  transactionTimeoutS: 32,
};

/**
 * One REGISTER dialog: the few fields its record needs, copied out of its first request (keeping
 * the whole event would keep its parse results alive for the dialog's life).
 */
interface RegisterDialog {
  callId: string;
  firstUs: number;
  user: string;
  domain: string;
  clientIp: string;
  clientPort: number;
  registrarIp: string;
  registrarPort: number;
  lastUs: number;
  /** Transactions seen (distinct CSeq in a row): a count, so a refresh flood on one Call-ID grows nothing. */
  transactions: number;
  lastCseq: number;
  /** Final response to the last REGISTER, or null while it is pending. */
  lastFinal: number | null;
  challenged: boolean;
  contact: string | null;
  requestExpires: number | null;
  grantedExpires: number | null;
  userAgent: string | null;
}

/**
 * REGISTER dialogs by Call-ID (RFC 3261 §10): every transaction (challenge, authenticated retry,
 * refresh, unregistration) of one Call-ID becomes one register record once the dialog goes quiet.
 */
export class RegisterTable {
  private readonly dialogs = new Map<string, RegisterDialog>();
  /** Packet time of the last sweep: the next one runs a second later (or after a backward step). */
  private lastSweepUs = 0;
  /** Packet time (see PacketClock): pass the call table's to give both tables one time. */
  readonly clock: PacketClock;
  /**
   * `registers`: records written; `evicted`: dialogs written early because `maxOpen` were open;
   * `responsesWithoutRequest`: REGISTER responses of no open dialog; `clockOutliers` and
   * `clockSteps`: the clock's (see CallTableCounters), shared with the call table when the clock is.
   */
  readonly counters: {
    registers: number;
    evicted: number;
    responsesWithoutRequest: number;
    readonly clockOutliers: number;
    readonly clockSteps: number;
  };

  /** Registration dialogs open now. */
  get openDialogs(): number {
    return this.dialogs.size;
  }

  constructor(
    private readonly options: RegisterTableOptions,
    private readonly onRegister: (record: RegisterRecord) => void,
    clock: PacketClock = new PacketClock(),
  ) {
    this.clock = clock;
    this.counters = {
      registers: 0,
      evicted: 0,
      responsesWithoutRequest: 0,
      get clockOutliers() {
        return clock.outliers;
      },
      get clockSteps() {
        return clock.steps;
      },
    };
  }

  /** One REGISTER request or response; its timestamp goes to the clock (dialogs time out on packet time). */
  onSip(ev: SipEvent): void {
    this.clock.observe(ev.tsUs);
    this.sweepIfDue();
    let d = this.dialogs.get(ev.callId);
    if (ev.isRequest) {
      if (d === undefined) {
        if (this.dialogs.size >= this.options.maxOpen) this.evictOldest();
        // Owned strings (see ownText): the event's are cut out of the whole SIP header.
        d = {
          callId: ownText(ev.callId), firstUs: ev.tsUs, user: ownText(ev.toUser), domain: sharedText(ev.toDomain),
          clientIp: sharedText(ev.srcIp), clientPort: ev.srcPort, registrarIp: sharedText(ev.dstIp), registrarPort: ev.dstPort,
          lastUs: ev.tsUs, transactions: 0, lastCseq: -1, lastFinal: null, challenged: false,
          contact: null, requestExpires: null, grantedExpires: null, userAgent: sharedTextOrNull(ev.userAgent),
        };
        this.dialogs.set(d.callId, d);
      }
      d.lastUs = Math.max(d.lastUs, ev.tsUs);
      if (ev.cseq !== d.lastCseq) {
        // A new transaction (a retransmission repeats the CSeq).
        d.transactions++;
        d.lastCseq = ev.cseq;
        d.lastFinal = null;
        d.contact = ownTextOrNull(ev.contact);
        d.requestExpires = ev.expires;
        d.grantedExpires = null;
      }
      return;
    }
    if (d === undefined) {
      this.counters.responsesWithoutRequest++;
      return;
    }
    d.lastUs = Math.max(d.lastUs, ev.tsUs);
    if (ev.cseq !== d.lastCseq || ev.statusCode < 200) return;
    d.lastFinal = ev.statusCode;
    if (ev.statusCode === 401 || ev.statusCode === 407) d.challenged = true;
    if (ev.statusCode < 300) d.grantedExpires = ev.expires;
  }

  /**
   * Trusted time (the live daemon's wall-clock tick, a test): moves packet time forward without
   * confirmation and writes out dialogs that went quiet or whose last REGISTER timed out. Packet
   * timestamps go through {@link RegisterTable.onSip} (or the shared clock) instead.
   */
  advance(nowUs: number): void {
    this.clock.trust(nowUs);
    this.sweepIfDue();
  }

  /**
   * Every second of packet time (and right after a backward step of the clock), write out the
   * dialogs that went quiet or whose last REGISTER timed out. For a clock shared with the call
   * table: the pipeline calls it per SIP message, so that dialogs time out without REGISTERs.
   */
  sweepIfDue(): void {
    const nowUs = this.clock.nowUs;
    if (Math.abs(nowUs - this.lastSweepUs) < 1_000_000) return;
    this.lastSweepUs = nowUs;
    for (const [callId, d] of this.dialogs) {
      const quietUs = nowUs - d.lastUs;
      const limitS = d.lastFinal === null ? this.options.transactionTimeoutS : this.options.idleS;
      if (quietUs >= limitS * 1e6) {
        this.dialogs.delete(callId);
        this.emit(d);
      }
    }
  }

  /** The input ended: write out everything. */
  flush(): void {
    for (const d of this.dialogs.values()) this.emit(d);
    this.dialogs.clear();
  }

  private evictOldest(): void {
    const oldest = this.dialogs.entries().next();
    if (oldest.done === true) return;
    this.counters.evicted++;
    this.dialogs.delete(oldest.value[0]);
    this.emit(oldest.value[1]);
  }

  private emit(d: RegisterDialog): void {
    this.counters.registers++;
    const code = d.lastFinal;
    let result: RegisterResult;
    if (code === null) result = 'timeout';
    else if (code < 300) result = 'ok';
    else if (code === 401 || code === 407 || code === 403) result = 'auth_failed';
    else result = 'failed';
    this.onRegister({
      type: 'register',
      sensor: this.options.sensor,
      call_id: d.callId,
      user: d.user,
      domain: d.domain,
      contact: d.contact,
      expires: d.grantedExpires ?? d.requestExpires,
      result,
      last_sip_code: code,
      first: isoFromMicros(d.firstUs),
      last: isoFromMicros(d.lastUs),
      client_ip: d.clientIp,
      client_port: d.clientPort,
      registrar_ip: d.registrarIp,
      registrar_port: d.registrarPort,
      user_agent: d.userAgent,
      challenged: d.challenged,
      transactions: d.transactions,
    });
  }
}
