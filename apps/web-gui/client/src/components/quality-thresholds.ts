/**
 * The user's loss and jitter colour thresholds (GUI.md: "loss and jitter coloured by thresholds
 * the user can set"), kept in localStorage and shared by every screen that colours them: a change
 * made on the list recolours an open call detail too. MOS bands are G.107's and not settable.
 */
import { useEffect, useState } from 'preact/hooks';
import { DEFAULT_THRESHOLDS } from '../lib/quality.ts';
import type { Thresholds } from '../lib/quality.ts';

/** localStorage key of the thresholds. */
export const THRESHOLDS_STORAGE_KEY = 'callscope.quality-thresholds.v1';

/** A warn/bad pair as stored; each bound a finite number >= 0 and warn below bad. */
const validPair = (v: unknown): v is { warn: number; bad: number } => {
  if (typeof v !== 'object' || v === null) return false;
  const { warn, bad } = v as Record<string, unknown>;
  return typeof warn === 'number' && typeof bad === 'number' && Number.isFinite(warn) && Number.isFinite(bad) && warn >= 0 && warn < bad;
};

/**
 * The thresholds stored under {@link THRESHOLDS_STORAGE_KEY}; each of loss and jitter falls back
 * to its default on its own when absent or invalid (so one bad pair does not lose the other).
 */
export function parseThresholds(stored: string | null): Thresholds {
  if (stored === null) return DEFAULT_THRESHOLDS;
  let value: unknown;
  try {
    value = JSON.parse(stored);
  } catch {
    return DEFAULT_THRESHOLDS; // damaged entry: defaults until the next change overwrites it
  }
  const v = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const lossPct = v['lossPct'];
  const jitterMs = v['jitterMs'];
  return {
    lossPct: validPair(lossPct) ? { warn: lossPct.warn, bad: lossPct.bad } : DEFAULT_THRESHOLDS.lossPct,
    jitterMs: validPair(jitterMs) ? { warn: jitterMs.warn, bad: jitterMs.bad } : DEFAULT_THRESHOLDS.jitterMs,
  };
}

/** What {@link parseThresholds} reads back. */
export const serializeThresholds = (t: Thresholds): string => JSON.stringify(t);

/** Why a warn/bad pair typed by the user cannot be used, or null when it can. */
export function checkThresholdPair(warn: number, bad: number): string | null {
  if (!Number.isFinite(warn) || !Number.isFinite(bad) || warn < 0 || bad < 0) return 'numbers >= 0';
  if (warn >= bad) return 'warn must be below bad';
  return null;
}

const listeners = new Set<(t: Thresholds) => void>();

function load(): Thresholds {
  try {
    return parseThresholds(window.localStorage.getItem(THRESHOLDS_STORAGE_KEY));
  } catch {
    return DEFAULT_THRESHOLDS; // storage refused (private mode): defaults
  }
}

/** Stores new thresholds and recolours every screen using {@link useThresholds}. */
export function saveThresholds(t: Thresholds): void {
  try {
    window.localStorage.setItem(THRESHOLDS_STORAGE_KEY, serializeThresholds(t));
  } catch {
    // Storage refused: the change holds for this page only.
  }
  for (const l of listeners) l(t);
}

/** The current thresholds; the component re-renders when they change. */
export function useThresholds(): Thresholds {
  const [t, setT] = useState(load);
  useEffect(() => {
    listeners.add(setT);
    return () => {
      listeners.delete(setT);
    };
  }, []);
  return t;
}
