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

interface RegisterDialog {
  first: SipEvent;
  lastUs: number;
  /** CSeq numbers seen, in order. */
  cseqs: number[];
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
  private nextSweepUs = 0;
  readonly counters = { registers: 0, evicted: 0, responsesWithoutRequest: 0 };

  constructor(
    private readonly options: RegisterTableOptions,
    private readonly onRegister: (record: RegisterRecord) => void,
  ) {}

  onSip(ev: SipEvent): void {
    let d = this.dialogs.get(ev.callId);
    if (ev.isRequest) {
      if (d === undefined) {
        if (this.dialogs.size >= this.options.maxOpen) this.evictOldest();
        d = {
          first: ev, lastUs: ev.tsUs, cseqs: [], lastCseq: -1, lastFinal: null, challenged: false,
          contact: null, requestExpires: null, grantedExpires: null, userAgent: ev.userAgent,
        };
        this.dialogs.set(ev.callId, d);
      }
      d.lastUs = Math.max(d.lastUs, ev.tsUs);
      if (ev.cseq !== d.lastCseq) {
        // A new transaction (a retransmission repeats the CSeq).
        d.cseqs.push(ev.cseq);
        d.lastCseq = ev.cseq;
        d.lastFinal = null;
        d.contact = ev.contact;
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

  /** Write out dialogs that went quiet or whose last REGISTER timed out. */
  advance(nowUs: number): void {
    if (nowUs < this.nextSweepUs) return;
    this.nextSweepUs = nowUs + 1_000_000;
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
    const f = d.first;
    this.onRegister({
      type: 'register',
      sensor: this.options.sensor,
      call_id: f.callId,
      user: f.toUser,
      domain: f.toDomain,
      contact: d.contact,
      expires: d.grantedExpires ?? d.requestExpires,
      result,
      last_sip_code: code,
      first: isoFromMicros(f.tsUs),
      last: isoFromMicros(d.lastUs),
      client_ip: f.srcIp,
      client_port: f.srcPort,
      registrar_ip: f.dstIp,
      registrar_port: f.dstPort,
      user_agent: d.userAgent,
      challenged: d.challenged,
      transactions: d.cseqs.length,
    });
  }
}
