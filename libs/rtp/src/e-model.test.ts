import { describe, expect, it } from 'vitest';
import { Codec } from './codec.js';
import { R_DEFAULT, burstRatio, codecImpairment, delayImpairment, eModelR, effectiveEquipmentImpairment, rToMos } from './e-model.js';

describe('E-model (G.107 / G.113)', () => {
  it('maps R to MOS per G.107 Annex B', () => {
    expect(rToMos(-5)).toBe(1);
    expect(rToMos(0)).toBe(1);
    expect(rToMos(100)).toBe(4.5);
    expect(rToMos(R_DEFAULT)).toBeCloseTo(4.4093, 4);
    // 1 + 0.035*50 + 50*(-10)*50*7e-6 = 2.575
    expect(rToMos(50)).toBeCloseTo(2.575, 10);
    expect(rToMos(Number.NaN)).toBe(1);
    expect(rToMos(1)).toBe(1); // the cubic would give 0.994
    for (let r = 0; r <= 100; r += 0.5) expect(rToMos(r + 0.5)).toBeGreaterThanOrEqual(rToMos(r));
  });

  it('computes Idd per G.107 §7.4 (0 up to 100 ms)', () => {
    expect(delayImpairment(0)).toBe(0);
    expect(delayImpairment(100)).toBe(0);
    // Ta = 200: X = 1 -> 25 * (2^(1/6) - 3 (1 + 3^-6)^(1/6) + 2) = 3.0444
    expect(delayImpairment(200)).toBeCloseTo(3.0444, 3);
    expect(delayImpairment(400)).toBeGreaterThan(delayImpairment(300));
  });

  it('computes Ie,eff with Bpl and BurstR (G.107 eq. 7-29)', () => {
    const g711 = codecImpairment(Codec.PCMU);
    expect(g711.bpl).toBe(25.1);
    expect(effectiveEquipmentImpairment(0, 25.1, 0, 1)).toBe(0);
    // 95 * 1 / (1 + 25.1)
    expect(effectiveEquipmentImpairment(0, 25.1, 1, 1)).toBeCloseTo(3.6398, 4);
    // Burstier loss impairs more at the same rate.
    expect(effectiveEquipmentImpairment(0, 25.1, 5, 4)).toBeGreaterThan(effectiveEquipmentImpairment(0, 25.1, 5, 1));
    expect(effectiveEquipmentImpairment(11, 19, 100, 1)).toBeLessThanOrEqual(95);
    expect(codecImpairment(Codec.G729).ie).toBe(11);
  });

  it('derives BurstR = 1/(p+q) from Markov transition counts', () => {
    expect(burstRatio(0, 100, 0, 0)).toBe(1);
    // p = 1/100, q = 1/4 -> 1 / 0.26
    expect(burstRatio(1, 100, 1, 4)).toBeCloseTo(1 / 0.26, 10);
    expect(burstRatio(5, 100, 5, 5)).toBe(1); // q = 1 and p small: at most random
  });

  it('rates a clean G.729 call below a clean G.711 call', () => {
    const g711 = rToMos(eModelR(codecImpairment(Codec.PCMA), 0, 1, 70));
    const g729 = rToMos(eModelR(codecImpairment(Codec.G729), 0, 1, 70));
    expect(g711).toBeGreaterThan(4.3);
    expect(g729).toBeLessThan(g711);
  });
});
