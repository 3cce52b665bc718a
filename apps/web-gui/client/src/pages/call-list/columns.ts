/**
 * The call list's columns: the catalogue (what each shows, its width, the server-side sort it
 * maps to) and the user's choice of columns and their order, kept in localStorage so the list
 * looks the same tomorrow. Pure; the cells themselves are drawn by CallTable.tsx.
 */
import type { CallSortKey } from '../../../../src/api-types.ts';

/** Every column the list can show, in catalogue order (the order a re-added column returns to). */
export const COLUMNS = [
  { id: 'start', label: 'Start (UTC)', width: '196px', sort: 'start' },
  { id: 'answer', label: 'Answer', width: '196px' },
  { id: 'end', label: 'End', width: '196px' },
  { id: 'caller', label: 'Caller', width: 'minmax(110px, 1fr)', sort: 'caller' },
  { id: 'called', label: 'Called', width: 'minmax(110px, 1fr)', sort: 'called' },
  { id: 'duration', label: 'Duration', width: '94px', sort: 'duration', numeric: true },
  { id: 'connect', label: 'Connect', width: '72px', numeric: true },
  { id: 'pdd', label: 'PDD ms', width: '64px', numeric: true },
  { id: 'code', label: 'Final code', width: '170px', sort: 'last_sip_code' },
  { id: 'mos', label: 'MOS a / b', width: '104px', sort: 'mos_worst', numeric: true },
  { id: 'loss', label: 'Loss % a / b', width: '112px', numeric: true },
  { id: 'jitter', label: 'Jitter ms a / b', width: '112px', numeric: true },
  // Wide enough for a codec change (`PCMA→PCMU`); the title has both sides whole.
  { id: 'codec', label: 'Codec', width: '112px' },
  { id: 'sensor', label: 'Sensor', width: '96px' },
  { id: 'end_reason', label: 'End reason', width: '132px' },
  { id: 'bye_by', label: 'Hung up', width: '64px' },
  { id: 'caller_ip', label: 'Caller IP', width: '120px' },
  { id: 'callee_ip', label: 'Callee IP', width: '120px' },
  { id: 'call_id', label: 'Call-ID', width: 'minmax(160px, 1.5fr)' },
] as const satisfies readonly { id: string; label: string; width: string; sort?: CallSortKey; numeric?: boolean }[];

/** A column id. */
export type ColumnId = (typeof COLUMNS)[number]['id'];

/** One column of the catalogue. */
export type ColumnDef = (typeof COLUMNS)[number];

/** The columns of a first visit (GUI.md: what VoIPmonitor and homer users look at first). */
export const DEFAULT_COLUMNS: readonly ColumnId[] = Object.freeze([
  'start',
  'caller',
  'called',
  'duration',
  'code',
  'mos',
  'loss',
  'jitter',
  'codec',
  'sensor',
  'end_reason',
] satisfies ColumnId[]);

/** localStorage key of the choice; the version lets a later catalogue change start afresh. */
export const COLUMNS_STORAGE_KEY = 'callscope.call-list.columns.v1';

const BY_ID: ReadonlyMap<string, ColumnDef> = new Map(COLUMNS.map((c) => [c.id, c]));
const RANK: ReadonlyMap<string, number> = new Map(COLUMNS.map((c, i) => [c.id, i]));

/** The definition of a column. */
export const columnDef = (id: ColumnId): ColumnDef => BY_ID.get(id)!;

/**
 * The columns stored under {@link COLUMNS_STORAGE_KEY}: unknown ids (from an older catalogue) and
 * duplicates dropped, the defaults when nothing usable is stored (absent, not JSON, empty).
 */
export function parseColumns(stored: string | null): readonly ColumnId[] {
  if (stored === null) return DEFAULT_COLUMNS;
  let value: unknown;
  try {
    value = JSON.parse(stored);
  } catch {
    return DEFAULT_COLUMNS; // a damaged entry: start from the defaults, the next change overwrites it
  }
  if (!Array.isArray(value)) return DEFAULT_COLUMNS;
  const ids = [...new Set(value.filter((v): v is ColumnId => typeof v === 'string' && BY_ID.has(v)))];
  return ids.length > 0 ? ids : DEFAULT_COLUMNS;
}

/** What {@link parseColumns} reads back. */
export const serializeColumns = (columns: readonly ColumnId[]): string => JSON.stringify(columns);

/**
 * Shows or hides a column. A shown column goes after the last shown column that precedes it in
 * the catalogue, so it lands where it did before it was hidden. The last column cannot be hidden
 * (a list without columns shows nothing to select).
 */
export function toggleColumn(columns: readonly ColumnId[], id: ColumnId): readonly ColumnId[] {
  if (columns.includes(id)) return columns.length > 1 ? columns.filter((c) => c !== id) : columns;
  const rank = RANK.get(id)!;
  let at = 0;
  columns.forEach((c, i) => {
    if (RANK.get(c)! < rank) at = i + 1;
  });
  return [...columns.slice(0, at), id, ...columns.slice(at)];
}

/** Moves a shown column one place left (-1) or right (+1); unchanged at an end. */
export function moveColumn(columns: readonly ColumnId[], id: ColumnId, delta: -1 | 1): readonly ColumnId[] {
  const i = columns.indexOf(id);
  const j = i + delta;
  if (i < 0 || j < 0 || j >= columns.length) return columns;
  const out = [...columns];
  [out[i], out[j]] = [out[j]!, out[i]!];
  return out;
}

/** The CSS grid-template-columns of the shown columns (header and rows share it, so they align). */
export const gridTemplate = (columns: readonly ColumnId[]): string => columns.map((c) => columnDef(c).width).join(' ');

/**
 * The narrowest the shown columns may get, px: the sum of their fixed widths and minimums. The
 * header and every row are given at least this width, so they scroll sideways together on a
 * small screen instead of squeezing a column under its content.
 */
export function minTableWidth(columns: readonly ColumnId[]): number {
  let sum = 0;
  for (const c of columns) sum += Number(/(\d+)px/.exec(columnDef(c).width)?.[1] ?? 0);
  return sum;
}

/** The sort of the list: a column and its direction. */
export interface SortState {
  readonly key: CallSortKey;
  readonly desc: boolean;
}

const SORT_KEYS: readonly string[] = ['start', 'duration', 'mos_worst', 'caller', 'called', 'last_sip_code'] satisfies CallSortKey[];
/** Keys whose useful first order is descending: newest and longest first. MOS ascends: worst first. */
const DESC_FIRST: readonly CallSortKey[] = ['start', 'duration'];

/** The sort of a `sort` parameter; the server's default (`-start`) for '' or an unknown key. */
export function parseSort(sort: string): SortState {
  const desc = sort.startsWith('-');
  const key = desc ? sort.slice(1) : sort;
  return SORT_KEYS.includes(key) ? { key: key as CallSortKey, desc } : { key: 'start', desc: true };
}

/** The `sort` parameter after a click on the header of `key`: the same column flips, another starts in its useful order. */
export function nextSort(current: string, key: CallSortKey): string {
  const now = parseSort(current);
  const desc = now.key === key ? !now.desc : DESC_FIRST.includes(key);
  return `${desc ? '-' : ''}${key}`;
}
