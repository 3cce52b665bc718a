import { isoFromMicros, type LegLinkKind } from '@callscope/cdr-model';
import { LegId, type Call } from './call.js';

/**
 * The open calls of a table by the identifiers that link legs of one conversation (X-CID,
 * Session-ID, icid, configured correlation headers), so that each leg's record names the others
 * (`linked_legs`). Only calls that carry an identifier are indexed; B2BUA legs overlap in time,
 * so linking open calls (closing ones linger a few seconds more) finds them. Calls that never
 * overlapped are found by the database search over the indexed columns instead.
 */
/** Most open calls one identifier value links; see {@link LegIndex.add}. */
export const MAX_CALLS_PER_KEY = 64;

export class LegIndex {
  private readonly byKey = new Map<string, Call[]>();
  /**
   * Links not recorded: past MAX_LINKED_LEGS_PER_CALL on a call, or a call not indexed under an
   * identifier already on {@link MAX_CALLS_PER_KEY} open calls (the table's `linkedLegsOverCap`).
   */
  overCap = 0;

  /**
   * Indexes what `call` just learned (`learned`: {@link LegId} bits) and links it with every open
   * call sharing an identifier. `openCall` finds an open call by Call-ID (a leg's X-CID names the
   * other leg's Call-ID).
   */
  learned(call: Call, learned: number, openCall: (callId: string) => Call | undefined): void {
    const legs = call.legs;
    if (legs === null) return;
    if ((learned & LegId.XCid) !== 0 && legs.xCid !== null) {
      const named = openCall(legs.xCid);
      if (named !== undefined) this.link(call, named, 'x_cid', null);
      this.add(call, `x\u0000${legs.xCid}`, 'x_cid', null);
    }
    if ((learned & LegId.Session) !== 0 && legs.sessionUuid !== null) this.add(call, `s\u0000${legs.sessionUuid}`, 'session_id', null);
    if ((learned & LegId.Icid) !== 0 && legs.icid !== null) this.add(call, `i\u0000${legs.icid}`, 'icid', null);
    if ((learned & LegId.Correlation) !== 0 && legs.correlation !== null) {
      for (const [name, value] of Object.entries(legs.correlation)) this.add(call, `h\u0000${name.toLowerCase()}\u0000${value}`, 'header', name);
    }
  }

  /** A new call: the open legs whose X-CID is its Call-ID were created for it. */
  opened(call: Call): void {
    if (this.byKey.size === 0) return;
    const naming = this.byKey.get(`x\u0000${call.callId}`);
    if (naming !== undefined) for (const other of naming) this.link(call, other, 'x_cid', null);
  }

  /** A call closed: it links nothing more. */
  closed(call: Call): void {
    const keys = call.legs?.keys ?? null;
    if (keys === null) return;
    for (const key of keys) {
      const list = this.byKey.get(key);
      if (list === undefined) continue;
      const rest = list.filter((c) => c !== call);
      if (rest.length === 0) this.byKey.delete(key);
      else this.byKey.set(key, rest);
    }
    call.legs!.keys = null;
  }

  /** Open calls indexed (for tests and stats). */
  get keys(): number {
    return this.byKey.size;
  }

  private add(call: Call, key: string, by: LegLinkKind, header: string | null): void {
    const legs = call.legs!;
    if (legs.keys?.includes(key) === true) return;
    const list = this.byKey.get(key);
    if (list === undefined) this.byKey.set(key, [call]);
    else if (list.length >= MAX_CALLS_PER_KEY) {
      // An identifier on that many open calls at once is no leg link (a constant header value):
      // linking every new call with all of them would cost O(n) per call.
      this.overCap++;
      return;
    } else {
      for (const other of list) this.link(call, other, by, header);
      list.push(call);
    }
    (legs.keys ??= []).push(key);
  }

  private link(a: Call, b: Call, by: LegLinkKind, header: string | null): void {
    if (a === b) return;
    if (!a.addLinkedLeg({ call_id: b.callId, start: isoFromMicros(b.startUs), by, header })) this.overCap++;
    if (!b.addLinkedLeg({ call_id: a.callId, start: isoFromMicros(a.startUs), by, header })) this.overCap++;
  }
}
