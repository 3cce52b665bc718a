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
 * `owner`, a non-negative integer stored in the same 16 bytes as key and tag (the call table keeps
 * the hint stream's call number there, so a packet observer gets the call from the line the
 * lookup already read: an owner array beside the slots, even of pointers only, was a cache miss
 * per packet at 10,000 calls, 0.35 s per 4 million packets). Storing a *different* value under a
 * key resets them (hint null, tag -1, owner -1, stamp 0); storing the same value again keeps them.
 * They move with their value on rehash.
 */
const EMPTY = -1;
const DELETED = -2;
/** Doubles per slot in `slots`: the key, then tag and owner as two int32 (four slots per 64-byte line). */
const STRIDE = 2;
const KEY = 0;
/** Int32 index of a slot's tag in `words` (the second double of the slot); the owner follows it. */
const TAG_WORD = 2;
const OWNER_WORD = 3;
/** Int32 words per slot in `words`. */
const WORDS = STRIDE * 2;

export class NumericKeyIndex<V, H = unknown> {
  /** Per slot: key (a double), tag and owner (int32, through `words`): see STRIDE. */
  private slots: Float64Array;
  /** `slots`' bytes as int32: tag at slot * WORDS + TAG_WORD, owner at slot * WORDS + OWNER_WORD. */
  private words: Int32Array;
  private stamps: Float64Array;
  private values: (V | undefined)[];
  private hints: (H | null)[];
  private mask: number;
  private used = 0; // live + deleted slots
  private live = 0;

  constructor(initialCapacity = 1024) {
    let cap = 16;
    while (cap < initialCapacity * 2) cap *= 2;
    this.slots = emptySlots(cap);
    this.words = new Int32Array(this.slots.buffer);
    this.stamps = new Float64Array(cap);
    this.values = new Array<V | undefined>(cap).fill(undefined);
    this.hints = new Array<H | null>(cap).fill(null);
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
    return this.words[slot * WORDS + TAG_WORD]!;
  }

  /** The owner set with the hint at `slot` (-1 until set). */
  ownerAt(slot: number): number {
    return this.words[slot * WORDS + OWNER_WORD]!;
  }

  /**
   * Set the hint of the value at `slot`, the number that goes with it (default -1) and its owner
   * (default -1). Tag and owner are int32: -1 or a non-negative integer below 2^31.
   */
  setHintAt(slot: number, hint: H | null, tag = -1, owner = -1): void {
    this.hints[slot] = hint;
    this.words[slot * WORDS + TAG_WORD] = tag;
    this.words[slot * WORDS + OWNER_WORD] = owner;
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
          this.setHintAt(i, null);
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
    this.setHintAt(i, null);
    this.stamps[i] = 0;
    this.values[i] = value;
    this.live++;
    const capacity = this.mask + 1;
    if (this.used * 2 > capacity) this.rehash(this.live * 4 > capacity ? capacity * 2 : capacity);
  }

  delete(key: number): boolean {
    const i = this.find(key);
    if (i < 0) return false;
    this.slots[i * STRIDE + KEY] = DELETED;
    this.setHintAt(i, null);
    this.values[i] = undefined;
    this.live--;
    return true;
  }

  private rehash(capacity: number): void {
    const oldSlots = this.slots;
    const oldWords = this.words;
    const oldStamps = this.stamps;
    const oldValues = this.values;
    const oldHints = this.hints;
    this.slots = emptySlots(capacity);
    this.words = new Int32Array(this.slots.buffer);
    this.stamps = new Float64Array(capacity);
    this.values = new Array<V | undefined>(capacity).fill(undefined);
    this.hints = new Array<H | null>(capacity).fill(null);
    this.mask = capacity - 1;
    this.used = 0;
    this.live = 0;
    for (let i = 0; i < oldValues.length; i++) {
      const k = oldSlots[i * STRIDE + KEY]!;
      if (k < 0) continue;
      this.set(k, oldValues[i]!);
      const j = this.find(k);
      this.setHintAt(j, oldHints[i] ?? null, oldWords[i * WORDS + TAG_WORD], oldWords[i * WORDS + OWNER_WORD]);
      this.stamps[j] = oldStamps[i]!;
    }
  }
}

/** `capacity` empty slots: key EMPTY, tag and owner -1. */
function emptySlots(capacity: number): Float64Array {
  const slots = new Float64Array(capacity * STRIDE);
  const words = new Int32Array(slots.buffer);
  for (let i = 0; i < capacity; i++) {
    slots[i * STRIDE + KEY] = EMPTY;
    words[i * WORDS + TAG_WORD] = -1;
    words[i * WORDS + OWNER_WORD] = -1;
  }
  return slots;
}
