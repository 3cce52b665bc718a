/**
 * `GET /api/v1/calls/export`: every call of a search as CSV or JSON lines, streamed. The rows are
 * read a page at a time through the same keyset as the list (so the export of a month holds one
 * page in memory, and a slow client slows the reading instead of filling memory), up to
 * {@link EXPORT_ROW_CAP} rows.
 *
 * CSV (RFC 4180): a header row, `\r\n` line ends, a cell quoted when it holds `"`, `,`, CR or LF.
 * Cells are data, never formulas: a text cell starting with `=`, `+`, `-`, `@`, tab or CR gets a
 * leading `'` (OWASP "CSV Injection"), so a spreadsheet shows `'+4420...` instead of running a
 * formula a caller put in his display name or number. Numbers are written as numbers.
 *
 * @packageDocumentation
 */
import { Readable } from 'node:stream';
import type { Pool } from 'mysql2/promise';
import { GUI_PAGE_MAX, searchCallPage } from '@callscope/cdr-schema';
import type { GuiCallFilter, GuiCallRow, GuiKeyset, GuiSort } from '@callscope/cdr-schema';

/** Most rows one export holds; the answer says so in a header and says whether it was reached in a trailer. */
export const EXPORT_ROW_CAP = 1_000_000;
/**
 * Rows read per query while exporting. In start order each page is an index walk from the last
 * position, so pages stay small; in any other order each page sorts every match after the
 * position again (no index holds that order), so pages are as big as the search allows.
 */
const exportPage = (sort: GuiSort): number => (sort.key === 'start' ? 1000 : GUI_PAGE_MAX);

/** Columns of the export, in order: every `CallListRow` field. */
export const EXPORT_COLUMNS = [
  'id', 'start', 'answer', 'end', 'duration', 'connect_duration', 'pdd_ms', 'sensor_id', 'sensor', 'call_id', 'caller', 'called',
  'caller_ip', 'callee_ip', 'last_sip_code', 'last_sip_reason', 'end_reason', 'bye_by', 'mos_worst', 'a_mos', 'b_mos',
  'a_loss_pct', 'b_loss_pct', 'a_jitter_max_ms', 'b_jitter_max_ms', 'a_codec', 'b_codec', 'a_codecs', 'b_codecs', 'incomplete',
] as const satisfies readonly (keyof GuiCallRow)[];

/** Export file format. */
export type ExportFormat = 'csv' | 'jsonl';

/** One CSV cell: quoted when needed, formula-looking text defused (see the module doc). */
export function csvCell(value: string | number | boolean | null): string {
  if (value === null) return '';
  if (typeof value !== 'string') return String(value);
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One CSV line (with `\r\n`) of a row. */
export function csvLine(row: GuiCallRow): string {
  return `${EXPORT_COLUMNS.map((c) => csvCell(row[c])).join(',')}\r\n`;
}

/** Progress of one export, read by the route's trailer once the stream has ended. */
export interface ExportProgress {
  rows: number;
  truncated: boolean;
}

/**
 * The export as a byte stream, at most `rowCap` rows. Reading pulls one page after the other;
 * destroying the stream (the client went away) stops the reading after the page in flight.
 */
export function exportStream(
  pool: Pool,
  filter: GuiCallFilter,
  sort: GuiSort,
  format: ExportFormat,
  progress: ExportProgress,
  rowCap: number = EXPORT_ROW_CAP,
): Readable {
  async function* lines(): AsyncGenerator<string> {
    if (format === 'csv') yield `${EXPORT_COLUMNS.join(',')}\r\n`;
    let after: GuiKeyset | null = null;
    for (;;) {
      const take = Math.min(exportPage(sort), rowCap - progress.rows);
      const page = await searchCallPage(pool, { filter, sort, after, limit: take });
      let chunk = '';
      for (const row of page.rows) chunk += format === 'csv' ? csvLine(row) : `${JSON.stringify(row)}\n`;
      progress.rows += page.rows.length;
      if (chunk !== '') yield chunk;
      if (page.next === null) return;
      if (progress.rows >= rowCap) {
        progress.truncated = true;
        return;
      }
      after = page.next;
    }
  }
  return Readable.from(lines(), { objectMode: false });
}
