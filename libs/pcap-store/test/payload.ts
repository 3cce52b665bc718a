/** `n` deterministic bytes varying with `seed`: a payload a test can recognise after a round trip. */
export function bytes(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7) & 0xff;
  return b;
}
