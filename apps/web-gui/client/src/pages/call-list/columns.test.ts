import { describe, expect, it } from 'vitest';
import { COLUMNS, DEFAULT_COLUMNS, gridTemplate, minTableWidth, moveColumn, nextSort, parseColumns, parseSort, serializeColumns, toggleColumn } from './columns.ts';
import type { ColumnId } from './columns.ts';

describe('column chooser state', () => {
  it('starts with the GUI.md defaults', () => {
    expect(parseColumns(null)).toEqual(['start', 'caller', 'called', 'duration', 'code', 'mos', 'loss', 'jitter', 'codec', 'sensor', 'end_reason']);
  });

  it('reads back what it stored, order included', () => {
    const cols: ColumnId[] = ['called', 'start', 'call_id'];
    expect(parseColumns(serializeColumns(cols))).toEqual(cols);
  });

  it('survives damaged or stale storage', () => {
    expect(parseColumns('{not json')).toBe(DEFAULT_COLUMNS);
    expect(parseColumns('{"a":1}')).toBe(DEFAULT_COLUMNS);
    expect(parseColumns('[]')).toBe(DEFAULT_COLUMNS);
    expect(parseColumns('["gone", 3, null]')).toBe(DEFAULT_COLUMNS);
    expect(parseColumns('["start","gone","start","mos"]')).toEqual(['start', 'mos']);
  });

  it('hides a column and brings it back where it was', () => {
    const hidden = toggleColumn(DEFAULT_COLUMNS, 'duration');
    expect(hidden).not.toContain('duration');
    expect(toggleColumn(hidden, 'duration')).toEqual(DEFAULT_COLUMNS);
    // A column never shown before goes after its catalogue predecessors.
    expect(toggleColumn(DEFAULT_COLUMNS, 'pdd')).toEqual(['start', 'caller', 'called', 'duration', 'pdd', 'code', 'mos', 'loss', 'jitter', 'codec', 'sensor', 'end_reason']);
    expect(toggleColumn(['caller'], 'start')).toEqual(['start', 'caller']);
    expect(toggleColumn(['caller'], 'call_id')).toEqual(['caller', 'call_id']);
  });

  it('keeps the last column', () => {
    expect(toggleColumn(['caller'], 'caller')).toEqual(['caller']);
  });

  it('moves a column left and right, not past the ends', () => {
    expect(moveColumn(['start', 'caller', 'called'], 'caller', -1)).toEqual(['caller', 'start', 'called']);
    expect(moveColumn(['start', 'caller', 'called'], 'caller', 1)).toEqual(['start', 'called', 'caller']);
    const cols: ColumnId[] = ['start', 'caller'];
    expect(moveColumn(cols, 'start', -1)).toBe(cols);
    expect(moveColumn(cols, 'caller', 1)).toBe(cols);
    expect(moveColumn(cols, 'mos', 1)).toBe(cols);
  });

  it('gives header and rows one grid template', () => {
    expect(gridTemplate(['start', 'mos'])).toBe('196px 104px');
    expect(minTableWidth(['start', 'caller', 'mos'])).toBe(196 + 110 + 104);
    expect(new Set(COLUMNS.map((c) => c.id)).size).toBe(COLUMNS.length);
  });
});

describe('sort', () => {
  it('reads the sort parameter, defaulting to newest first', () => {
    expect(parseSort('')).toEqual({ key: 'start', desc: true });
    expect(parseSort('duration')).toEqual({ key: 'duration', desc: false });
    expect(parseSort('-mos_worst')).toEqual({ key: 'mos_worst', desc: true });
    expect(parseSort('-password')).toEqual({ key: 'start', desc: true });
  });

  it('flips the current column and starts another in its useful order', () => {
    expect(nextSort('', 'start')).toBe('start');
    expect(nextSort('start', 'start')).toBe('-start');
    expect(nextSort('', 'duration')).toBe('-duration');
    expect(nextSort('-start', 'mos_worst')).toBe('mos_worst');
    expect(nextSort('mos_worst', 'mos_worst')).toBe('-mos_worst');
    expect(nextSort('-start', 'caller')).toBe('caller');
  });
});
