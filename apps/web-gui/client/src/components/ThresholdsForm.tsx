import { useState } from 'preact/hooks';
import { DEFAULT_THRESHOLDS } from '../lib/quality.ts';
import type { Thresholds } from '../lib/quality.ts';
import { checkThresholdPair, saveThresholds, useThresholds } from './quality-thresholds.ts';

type Key = 'lossPct' | 'jitterMs';

/**
 * The loss and jitter colour thresholds as four small fields. A valid pair applies as it is
 * typed (every table recolours at once); an invalid one is marked and not applied.
 */
export function ThresholdsForm() {
  const current = useThresholds();
  const [text, setText] = useState(() => ({
    lossPct: { warn: String(current.lossPct.warn), bad: String(current.lossPct.bad) },
    jitterMs: { warn: String(current.jitterMs.warn), bad: String(current.jitterMs.bad) },
  }));
  const [problem, setProblem] = useState<Partial<Record<Key, string>>>({});

  const edit = (key: Key, bound: 'warn' | 'bad', value: string): void => {
    const pair = { ...text[key], [bound]: value };
    setText({ ...text, [key]: pair });
    const warn = pair.warn.trim() === '' ? Number.NaN : Number(pair.warn);
    const bad = pair.bad.trim() === '' ? Number.NaN : Number(pair.bad);
    const why = checkThresholdPair(warn, bad);
    setProblem({ ...problem, [key]: why ?? undefined });
    if (why === null) {
      const next: Thresholds = { ...current, [key]: { warn, bad } };
      saveThresholds(next);
    }
  };

  const row = (key: Key, label: string) => (
    <div class="thr-row">
      <span>{label}</span>
      <label>
        warn ≥
        <input class="w-small" inputMode="decimal" value={text[key].warn} aria-invalid={problem[key] !== undefined} onInput={(e) => {
          edit(key, 'warn', e.currentTarget.value);
        }} />
      </label>
      <label>
        bad ≥
        <input class="w-small" inputMode="decimal" value={text[key].bad} aria-invalid={problem[key] !== undefined} onInput={(e) => {
          edit(key, 'bad', e.currentTarget.value);
        }} />
      </label>
      {problem[key] && <span class="form-error">{problem[key]}</span>}
    </div>
  );

  return (
    <fieldset class="thresholds">
      <legend>Colour thresholds</legend>
      {row('lossPct', 'Loss %')}
      {row('jitterMs', 'Jitter ms')}
      <button
        type="button"
        onClick={() => {
          saveThresholds(DEFAULT_THRESHOLDS);
          setProblem({});
          setText({
            lossPct: { warn: String(DEFAULT_THRESHOLDS.lossPct.warn), bad: String(DEFAULT_THRESHOLDS.lossPct.bad) },
            jitterMs: { warn: String(DEFAULT_THRESHOLDS.jitterMs.warn), bad: String(DEFAULT_THRESHOLDS.jitterMs.bad) },
          });
        }}
      >
        Default thresholds
      </button>
    </fieldset>
  );
}
