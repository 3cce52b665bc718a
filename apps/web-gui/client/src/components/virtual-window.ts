/**
 * Which rows of a long list to put in the DOM. A day of CDRs is tens of thousands of rows; the
 * browser lays out only the ones on screen (plus a margin), each of one fixed height, inside a
 * spacer as tall as the whole list so the scrollbar stays honest.
 */

/** The list's geometry at one moment. */
export interface VirtualViewport {
  /** Pixels scrolled from the top of the rows. */
  readonly scrollTop: number;
  /** Visible height of the scrolling area, pixels. */
  readonly height: number;
  /** Height of every row, pixels (> 0). */
  readonly rowHeight: number;
  /** Rows loaded so far. */
  readonly rowCount: number;
  /** Extra rows rendered above and below the visible ones, so fast scrolling shows no gap. */
  readonly overscan?: number;
}

/** Rows to render: `[first, end)`, placed `offset` pixels down a spacer `totalHeight` tall. */
export interface VirtualWindow {
  readonly first: number;
  readonly end: number;
  readonly offset: number;
  readonly totalHeight: number;
}

/** The rows of `view` to render. */
export function computeWindow(view: VirtualViewport): VirtualWindow {
  const { rowHeight, rowCount } = view;
  if (!(rowHeight > 0)) throw new RangeError(`rowHeight must be > 0, got ${rowHeight}`);
  const overscan = view.overscan ?? 8;
  const totalHeight = rowCount * rowHeight;
  // A scrollTop beyond the end (the list shrank under a scrolled view) shows the last screen.
  const top = Math.max(0, Math.min(view.scrollTop, totalHeight - view.height));
  const firstVisible = Math.floor(top / rowHeight);
  const endVisible = Math.ceil((top + Math.max(0, view.height)) / rowHeight);
  const first = Math.max(0, firstVisible - overscan);
  const end = Math.min(rowCount, endVisible + overscan);
  return { first, end: Math.max(first, end), offset: first * rowHeight, totalHeight };
}

/**
 * Whether to fetch the next page: the visible rows come within `margin` rows of the last loaded
 * one (a screenful ahead, so the user rarely waits at the bottom).
 */
export function needsMore(view: VirtualViewport, margin: number): boolean {
  const lastVisible = Math.ceil((view.scrollTop + view.height) / view.rowHeight);
  return lastVisible + margin >= view.rowCount;
}

/**
 * The scrollTop that brings row `index` fully into view. A row just off an edge (j/k walking the
 * list) scrolls as little as possible, so the view follows the selection a row at a time; a row
 * a screen or more away (a jump, or the call reselected on return from its detail) is centred,
 * so the rows around it show too.
 */
export function scrollToReveal(index: number, scrollTop: number, height: number, rowHeight: number): number {
  const top = index * rowHeight;
  const bottom = top + rowHeight;
  const centred = Math.max(0, Math.round(top - (height - rowHeight) / 2));
  if (top < scrollTop) return top <= scrollTop - height ? centred : top;
  if (bottom > scrollTop + height) return bottom >= scrollTop + 2 * height ? centred : Math.max(0, bottom - height);
  return scrollTop;
}
