/**
 * Keyboard handling of a list with one selected row, as the field's tools do it (sngrep, mutt,
 * Gmail): j/k or the arrows move, PageUp/PageDown by a screen, Home/End to the ends, Enter opens,
 * `/` jumps to the filter and Escape leaves it. Pure: the page maps a key event to an action.
 */

/** What {@link listKeyAction} needs of a keydown event. */
export interface ListKey {
  readonly key: string;
  readonly ctrlKey: boolean;
  readonly metaKey: boolean;
  readonly altKey: boolean;
  /** The event comes from a text field, select or button (typing there must not move the list). */
  readonly inField: boolean;
}

/** What a key does to the list; the page prevents the browser's default for every action. */
export type ListKeyAction =
  | { readonly kind: 'select'; readonly index: number }
  | { readonly kind: 'open'; readonly index: number }
  | { readonly kind: 'focus-filter' }
  | { readonly kind: 'leave-filter' };

/**
 * The action of `event` on a list of `rowCount` rows with `selected` selected (-1: none),
 * `pageRows` rows to a screen; null when the key is not the list's (left to the browser).
 */
export function listKeyAction(event: ListKey, selected: number, rowCount: number, pageRows: number): ListKeyAction | null {
  // Browser and OS shortcuts (Ctrl+F, Cmd+K...) are never taken over.
  if (event.ctrlKey || event.metaKey || event.altKey) return null;
  if (event.inField) return event.key === 'Escape' ? { kind: 'leave-filter' } : null;
  if (event.key === '/') return { kind: 'focus-filter' };
  if (rowCount <= 0) return null;
  const last = rowCount - 1;
  const clamp = (i: number): number => Math.max(0, Math.min(last, i));
  const page = Math.max(1, pageRows);
  switch (event.key) {
    case 'j':
    case 'ArrowDown':
      return { kind: 'select', index: selected < 0 ? 0 : clamp(selected + 1) };
    case 'k':
    case 'ArrowUp':
      return { kind: 'select', index: selected < 0 ? 0 : clamp(selected - 1) };
    case 'PageDown':
      return { kind: 'select', index: clamp(Math.max(selected, 0) + page) };
    case 'PageUp':
      return { kind: 'select', index: clamp(selected - page) };
    case 'Home':
      return { kind: 'select', index: 0 };
    case 'End':
      return { kind: 'select', index: last };
    case 'Enter':
      return selected >= 0 && selected <= last ? { kind: 'open', index: selected } : null;
    default:
      return null;
  }
}
