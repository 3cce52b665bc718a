/**
 * An open-addressing hash table from numeric endpoint keys (`ipv4 * 65536 + port`, below 2^48)
 * to values, for the per-RTP-packet lookup. A `Map` with such keys stores each one as a heap
 * number: every probe dereferences it, a cache miss per entry at tens of thousands of calls. Here
 * the keys sit inline in a Float64Array, so a lookup touches one or two cache lines and
 * allocates nothing.
 */
const EMPTY = -1;
const DELETED = -2;

export class NumericKeyIndex<V> {
  private keys: Float64Array;
  private values: (V | undefined)[];
  private mask: number;
  private used = 0; // live + deleted slots
  private live = 0;

  constructor(initialCapacity = 1024) {
    let cap = 16;
    while (cap < initialCapacity * 2) cap *= 2;
    this.keys = new Float64Array(cap).fill(EMPTY);
    this.values = new Array<V | undefined>(cap).fill(undefined);
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

  get(key: number): V | undefined {
    const keys = this.keys;
    let i = this.slotOf(key);
    for (;;) {
      const k = keys[i]!;
      if (k === key) return this.values[i];
      if (k === EMPTY) return undefined;
      i = (i + 1) & this.mask;
    }
  }

  set(key: number, value: V): void {
    if (!(key >= 0) || key > Number.MAX_SAFE_INTEGER || !Number.isInteger(key)) throw new RangeError(`endpoint key ${key} must be a safe non-negative integer`);
    const keys = this.keys;
    let i = this.slotOf(key);
    let firstDeleted = -1;
    for (;;) {
      const k = keys[i]!;
      if (k === key) {
        this.values[i] = value;
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
    this.live++;
    if (this.used * 2 > keys.length) this.rehash(this.live * 4 > keys.length ? keys.length * 2 : keys.length);
  }

  delete(key: number): boolean {
    const keys = this.keys;
    let i = this.slotOf(key);
    for (;;) {
      const k = keys[i]!;
      if (k === key) {
        keys[i] = DELETED;
        this.values[i] = undefined;
        this.live--;
        return true;
      }
      if (k === EMPTY) return false;
      i = (i + 1) & this.mask;
    }
  }

  private rehash(capacity: number): void {
    const oldKeys = this.keys;
    const oldValues = this.values;
    this.keys = new Float64Array(capacity).fill(EMPTY);
    this.values = new Array<V | undefined>(capacity).fill(undefined);
    this.mask = capacity - 1;
    this.used = 0;
    this.live = 0;
    for (let i = 0; i < oldKeys.length; i++) {
      const k = oldKeys[i]!;
      if (k >= 0) this.set(k, oldValues[i]!);
    }
  }
}
