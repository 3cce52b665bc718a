/**
 * Results computed once per key: callers asking while the computation runs share it, and a
 * result is reused for `ttlMs`. A failure is not kept. At most `maxEntries` results, oldest out.
 */
export class SharedResults<T> {
  private readonly entries = new Map<string, { value: Promise<T>; expires: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  get(key: string, compute: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit !== undefined && hit.expires > now) return hit.value;
    const value = compute();
    this.entries.delete(key);
    this.entries.set(key, { value, expires: Number.POSITIVE_INFINITY });
    value.then(
      () => {
        const e = this.entries.get(key);
        if (e?.value === value) e.expires = Date.now() + this.ttlMs;
      },
      () => {
        if (this.entries.get(key)?.value === value) this.entries.delete(key);
      },
    );
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return value;
  }
}
