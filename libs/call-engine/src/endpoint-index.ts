/**
 * An open-addressing hash table from numeric endpoint keys (`ipv4 * 65536 + port`, below 2^48)
 * to values, for the per-RTP-packet lookup. A `Map` with such keys stores each one as a heap
 * number: every probe dereferences it, a cache miss per entry at tens of thousands of calls. Here
 * the keys sit inline in a Float64Array, so a lookup touches one or two cache lines and
 * allocates nothing.
 *
 * Each slot also carries per-packet state that belongs to the value stored there: a `hint` (an
 * object) with a `tag` (a number set with it), and a `stamp` (a number). The call table keeps an
 * endpoint's last stream, that stream's state block and the endpoint's last packet time in them,
 * so a packet reads them at the slot it has just found instead of first dereferencing the value
 * (dependent cache misses less per packet at 40,000 endpoints). Key and tag sit side by side in
 * one Float64Array (16 bytes per slot: the line that holds the key gives the tag); the stamp,
 * which the call table writes only off its fast path, is a parallel array. With the hint goes an
 * `owner` (an object: the call table keeps the hint stream's call key there, so a packet observer
 * gets the call's key from the slot without dereferencing stream and call). Storing a
 * *different* value under a key resets them (hint null, tag -1, stamp 0); storing the same value
 * again keeps them. They move with their value on rehash.
 */
const EMPTY = -1;
const DELETED = -2;
/** Doubles per slot in `slots`: key, tag (four slots per 64-byte line). */
const STRIDE = 2;
const KEY = 0;
const TAG = 1;

export class NumericKeyIndex<V, H = unknown, O = unknown> {
  /** Per slot: key, tag (see STRIDE). */
  private slots: Float64Array;
  private stamps: Float64Array;
  private values: (V | undefined)[];
  private hints: (H | null)[];
  private owners: (O | null)[];
  private mask: number;
  private used = 0; // live + deleted slots
  private live = 0;

  constructor(initialCapacity = 1024) {
    let cap = 16;
    while (cap < initialCapacity * 2) cap *= 2;
    this.slots = emptySlots(cap);
    this.stamps = new Float64Array(cap);
    this.values = new Array<V | undefined>(cap).fill(undefined);
    this.hints = new Array<H | null>(cap).fill(null);
    this.owners = new Array<O | null>(cap).fill(null);
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
    const slots = this.slots;
    let i = this.slotOf(key);
    for (;;) {
      const k = slots[i * STRIDE + KEY]!;
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

  /** The tag set with the hint at `slot` (-1 until set). */
  tagAt(slot: number): number {
    return this.slots[slot * STRIDE + TAG]!;
  }

  /** The owner set with the hint at `slot` (null until set). */
  ownerAt(slot: number): O | null {
    return this.owners[slot] ?? null;
  }

  /** Set the hint of the value at `slot`, the number that goes with it (default -1) and its owner (default null). */
  setHintAt(slot: number, hint: H | null, tag = -1, owner: O | null = null): void {
    this.hints[slot] = hint;
    this.owners[slot] = owner;
    this.slots[slot * STRIDE + TAG] = tag;
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
    const slots = this.slots;
    let i = this.slotOf(key);
    let firstDeleted = -1;
    for (;;) {
      const k = slots[i * STRIDE + KEY]!;
      if (k === key) {
        if (this.values[i] !== value) {
          this.values[i] = value;
          this.hints[i] = null;
    this.owners[i] = null;
          this.owners[i] = null;
          slots[i * STRIDE + TAG] = -1;
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
    slots[i * STRIDE + KEY] = key;
    slots[i * STRIDE + TAG] = -1;
    this.stamps[i] = 0;
    this.values[i] = value;
    this.hints[i] = null;
    this.owners[i] = null;
    this.live++;
    const capacity = this.mask + 1;
    if (this.used * 2 > capacity) this.rehash(this.live * 4 > capacity ? capacity * 2 : capacity);
  }

  delete(key: number): boolean {
    const i = this.find(key);
    if (i < 0) return false;
    this.slots[i * STRIDE + KEY] = DELETED;
    this.slots[i * STRIDE + TAG] = -1;
    this.values[i] = undefined;
    this.hints[i] = null;
    this.owners[i] = null;
    this.live--;
    return true;
  }

  private rehash(capacity: number): void {
    const oldSlots = this.slots;
    const oldStamps = this.stamps;
    const oldValues = this.values;
    const oldHints = this.hints;
    const oldOwners = this.owners;
    this.slots = emptySlots(capacity);
    this.stamps = new Float64Array(capacity);
    this.values = new Array<V | undefined>(capacity).fill(undefined);
    this.hints = new Array<H | null>(capacity).fill(null);
    this.owners = new Array<O | null>(capacity).fill(null);
    this.mask = capacity - 1;
    this.used = 0;
    this.live = 0;
    for (let i = 0; i < oldValues.length; i++) {
      const k = oldSlots[i * STRIDE + KEY]!;
      if (k < 0) continue;
      this.set(k, oldValues[i]!);
      const j = this.find(k);
      this.hints[j] = oldHints[i] ?? null;
      this.owners[j] = oldOwners[i] ?? null;
      this.slots[j * STRIDE + TAG] = oldSlots[i * STRIDE + TAG]!;
      this.stamps[j] = oldStamps[i]!;
    }
  }
}

/** `capacity` empty slots: key EMPTY, tag -1. */
function emptySlots(capacity: number): Float64Array {
  const slots = new Float64Array(capacity * STRIDE);
  for (let i = 0; i < capacity; i++) {
    slots[i * STRIDE + KEY] = EMPTY;
    slots[i * STRIDE + TAG] = -1;
  }
  return slots;
}
