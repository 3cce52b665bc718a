/**
 * An open-addressing hash table from numeric endpoint keys (`ipv4 * 65536 + port`, below 2^48)
 * to values, for the per-RTP-packet lookup. A `Map` with such keys stores each one as a heap
 * number: every probe dereferences it, a cache miss per entry at tens of thousands of calls. Here
 * the keys sit inline in a Float64Array, so a lookup touches one or two cache lines and
 * allocates nothing.
 *
 * Each slot also carries two fields of per-packet state that belong to the value stored there,
 * a `hint` (an object) and a `stamp` (a number): the call table keeps an endpoint's last stream
 * and its last packet time in them, so a packet reads them from parallel arrays at the slot it
 * has just found instead of first dereferencing the value (one dependent cache miss less per
 * packet at 40,000 endpoints). Storing a *different* value under a key resets both (hint null,
 * stamp 0); storing the same value again keeps them. They move with their value on rehash.
 */
const EMPTY = -1;
const DELETED = -2;

export class NumericKeyIndex<V, H = unknown> {
  private keys: Float64Array;
  private values: (V | undefined)[];
  private hints: (H | null)[];
  private stamps: Float64Array;
  private mask: number;
  private used = 0; // live + deleted slots
  private live = 0;

  constructor(initialCapacity = 1024) {
    let cap = 16;
    while (cap < initialCapacity * 2) cap *= 2;
    this.keys = new Float64Array(cap).fill(EMPTY);
    this.values = new Array<V | undefined>(cap).fill(undefined);
    this.hints = new Array<H | null>(cap).fill(null);
    this.stamps = new Float64Array(cap);
    this.mask = cap - 1;
  }

  get size(): number {
    return this.live;
  }

  /** Slot hash of a non-negative integer key below 2^53 (both 32-bit halves mixed). */
  private slotOf(key: number): number {
    const lo = key >>> 0;
    const hi = (key / 4294967296) >>> 0;
    let h = Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1);
    h ^= h >>> 15;
    return h & this.mask;
  }

  /** The slot holding `key`, or -1. A slot stays valid until the next `set` of a new key or `delete`. */
  find(key: number): number {
    const keys = this.keys;
    let i = this.slotOf(key);
    for (;;) {
      const k = keys[i]!;
      if (k === key) return i;
      if (k === EMPTY) return -1;
      i = (i + 1) & this.mask;
    }
  }

  get(key: number): V | undefined {
    const i = this.find(key);
    return i < 0 ? undefined : this.values[i];
  }

  /** The value at a slot returned by {@link find}. */
  valueAt(slot: number): V {
    return this.values[slot]!;
  }

  /** The hint of the value at `slot` (null until set). */
  hintAt(slot: number): H | null {
    return this.hints[slot] ?? null;
  }

  setHintAt(slot: number, hint: H | null): void {
    this.hints[slot] = hint;
  }

  /** The stamp of the value at `slot` (0 until set). */
  stampAt(slot: number): number {
    return this.stamps[slot]!;
  }

  setStampAt(slot: number, stamp: number): void {
    this.stamps[slot] = stamp;
  }

  set(key: number, value: V): void {
    if (!(key >= 0) || key > Number.MAX_SAFE_INTEGER || !Number.isInteger(key)) throw new RangeError(`endpoint key ${key} must be a safe non-negative integer`);
    const keys = this.keys;
    let i = this.slotOf(key);
    let firstDeleted = -1;
    for (;;) {
      const k = keys[i]!;
      if (k === key) {
        if (this.values[i] !== value) {
          this.values[i] = value;
          this.hints[i] = null;
          this.stamps[i] = 0;
        }
        return;
      }
      if (k === EMPTY) break;
      if (k === DELETED && firstDeleted < 0) firstDeleted = i;
      i = (i + 1) & this.mask;
    }
    if (firstDeleted >= 0) i = firstDeleted;
    else this.used++;
    keys[i] = key;
    this.values[i] = value;
    this.hints[i] = null;
    this.stamps[i] = 0;
    this.live++;
    if (this.used * 2 > keys.length) this.rehash(this.live * 4 > keys.length ? keys.length * 2 : keys.length);
  }

  delete(key: number): boolean {
    const i = this.find(key);
    if (i < 0) return false;
    this.keys[i] = DELETED;
    this.values[i] = undefined;
    this.hints[i] = null;
    this.live--;
    return true;
  }

  private rehash(capacity: number): void {
    const oldKeys = this.keys;
    const oldValues = this.values;
    const oldHints = this.hints;
    const oldStamps = this.stamps;
    this.keys = new Float64Array(capacity).fill(EMPTY);
    this.values = new Array<V | undefined>(capacity).fill(undefined);
    this.hints = new Array<H | null>(capacity).fill(null);
    this.stamps = new Float64Array(capacity);
    this.mask = capacity - 1;
    this.used = 0;
    this.live = 0;
    for (let i = 0; i < oldKeys.length; i++) {
      const k = oldKeys[i]!;
      if (k < 0) continue;
      this.set(k, oldValues[i]!);
      const j = this.find(k);
      this.hints[j] = oldHints[i] ?? null;
      this.stamps[j] = oldStamps[i]!;
    }
  }
}
