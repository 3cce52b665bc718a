import { useEffect, useRef, useState } from 'preact/hooks';
import { ThresholdsForm } from '../../components/ThresholdsForm.tsx';
import { COLUMNS, columnDef, DEFAULT_COLUMNS, moveColumn, toggleColumn } from './columns.ts';
import type { ColumnId } from './columns.ts';

/**
 * The "Columns" button and its panel: show/hide each column, move the shown ones left or right,
 * back to the defaults; below them the loss/jitter colour thresholds. Escape or a click outside
 * closes it.
 */
export function ColumnChooser({ columns, onChange }: { columns: readonly ColumnId[]; onChange: (columns: readonly ColumnId[]) => void }) {
  const [open, setOpen] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return undefined;
    const onDown = (e: MouseEvent): void => {
      if (box.current && !box.current.contains(e.target as Node)) setOpen(false);
    };
    const onKey = (e: KeyboardEvent): void => {
      if (e.key === 'Escape') {
        e.stopPropagation();
        setOpen(false);
      }
    };
    document.addEventListener('mousedown', onDown);
    document.addEventListener('keydown', onKey, true);
    return () => {
      document.removeEventListener('mousedown', onDown);
      document.removeEventListener('keydown', onKey, true);
    };
  }, [open]);

  const hidden = COLUMNS.filter((c) => !columns.includes(c.id));
  return (
    <div class="chooser" ref={box}>
      <button
        type="button"
        aria-expanded={open}
        onClick={() => {
          setOpen(!open);
        }}
      >
        Columns ▾
      </button>
      {open && (
        <div class="chooser-panel" role="dialog" aria-label="Columns">
          <ul>
            {columns.map((id, i) => (
              <li key={id}>
                <label>
                  <input
                    type="checkbox"
                    checked
                    disabled={columns.length === 1}
                    onChange={() => {
                      onChange(toggleColumn(columns, id));
                    }}
                  />
                  {columnDef(id).label}
                </label>
                <button type="button" aria-label={`Move ${columnDef(id).label} left`} disabled={i === 0} onClick={() => {
                  onChange(moveColumn(columns, id, -1));
                }}>
                  ↑
                </button>
                <button type="button" aria-label={`Move ${columnDef(id).label} right`} disabled={i === columns.length - 1} onClick={() => {
                  onChange(moveColumn(columns, id, 1));
                }}>
                  ↓
                </button>
              </li>
            ))}
            {hidden.map((c) => (
              <li key={c.id} class="hidden-col">
                <label>
                  <input
                    type="checkbox"
                    checked={false}
                    onChange={() => {
                      onChange(toggleColumn(columns, c.id));
                    }}
                  />
                  {c.label}
                </label>
              </li>
            ))}
          </ul>
          <button
            type="button"
            onClick={() => {
              onChange(DEFAULT_COLUMNS);
            }}
          >
            Default columns
          </button>
          <ThresholdsForm />
        </div>
      )}
    </div>
  );
}
