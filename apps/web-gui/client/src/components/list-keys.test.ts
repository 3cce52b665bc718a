import { describe, expect, it } from 'vitest';
import { listKeyAction } from './list-keys.ts';
import type { ListKey } from './list-keys.ts';

const key = (k: string, extra: Partial<ListKey> = {}): ListKey => ({ key: k, ctrlKey: false, metaKey: false, altKey: false, inField: false, ...extra });

describe('list keys', () => {
  it('moves the selection with j/k and the arrows, stopping at the ends', () => {
    expect(listKeyAction(key('j'), 3, 10, 20)).toEqual({ kind: 'select', index: 4 });
    expect(listKeyAction(key('ArrowDown'), 9, 10, 20)).toEqual({ kind: 'select', index: 9 });
    expect(listKeyAction(key('k'), 3, 10, 20)).toEqual({ kind: 'select', index: 2 });
    expect(listKeyAction(key('ArrowUp'), 0, 10, 20)).toEqual({ kind: 'select', index: 0 });
  });

  it('selects the first row on the first move when nothing is selected', () => {
    expect(listKeyAction(key('j'), -1, 10, 20)).toEqual({ kind: 'select', index: 0 });
    expect(listKeyAction(key('k'), -1, 10, 20)).toEqual({ kind: 'select', index: 0 });
  });

  it('pages by a screen and jumps to the ends', () => {
    expect(listKeyAction(key('PageDown'), 5, 100, 20)).toEqual({ kind: 'select', index: 25 });
    expect(listKeyAction(key('PageDown'), 95, 100, 20)).toEqual({ kind: 'select', index: 99 });
    expect(listKeyAction(key('PageUp'), 5, 100, 20)).toEqual({ kind: 'select', index: 0 });
    expect(listKeyAction(key('Home'), 50, 100, 20)).toEqual({ kind: 'select', index: 0 });
    expect(listKeyAction(key('End'), 50, 100, 20)).toEqual({ kind: 'select', index: 99 });
  });

  it('opens the selected row with Enter, and nothing without a selection', () => {
    expect(listKeyAction(key('Enter'), 7, 10, 20)).toEqual({ kind: 'open', index: 7 });
    expect(listKeyAction(key('Enter'), -1, 10, 20)).toBeNull();
    // A selection left over from a longer list is not opened.
    expect(listKeyAction(key('Enter'), 12, 10, 20)).toBeNull();
  });

  it('focuses the filter with / and leaves it with Escape', () => {
    expect(listKeyAction(key('/'), 0, 0, 20)).toEqual({ kind: 'focus-filter' });
    expect(listKeyAction(key('Escape', { inField: true }), 0, 10, 20)).toEqual({ kind: 'leave-filter' });
  });

  it('leaves typing in a field and browser shortcuts alone', () => {
    for (const k of ['j', 'k', '/', 'Enter', 'ArrowDown']) expect(listKeyAction(key(k, { inField: true }), 0, 10, 20), k).toBeNull();
    expect(listKeyAction(key('j', { ctrlKey: true }), 0, 10, 20)).toBeNull();
    expect(listKeyAction(key('/', { metaKey: true }), 0, 10, 20)).toBeNull();
    expect(listKeyAction(key('x'), 0, 10, 20)).toBeNull();
  });

  it('moves nothing in an empty list', () => {
    expect(listKeyAction(key('j'), -1, 0, 20)).toBeNull();
    expect(listKeyAction(key('End'), -1, 0, 20)).toBeNull();
  });
});
