import type { JSX } from 'preact';
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { LadderMessage } from '../../../../src/artifact-types.ts';
import { LADDER_GEOMETRY, layoutLadder, rowY, visibleRows, type LadderArrow, type LadderLane, type LadderStream } from './ladder-layout.ts';
import type { Endpoint } from '../../../../src/artifact-types.ts';

/** Props of {@link SipLadder}. */
export interface SipLadderProps {
  readonly messages: readonly LadderMessage[];
  readonly streams: readonly LadderStream[];
  readonly caller?: Endpoint;
  readonly callee?: Endpoint;
  /** Indexes of the selected messages (one: shown; two: diffed). */
  readonly selected: readonly number[];
  /** A click on message `index`; `add` when Shift/Ctrl/Cmd was held (select a second message to diff). */
  readonly onSelect: (index: number, add: boolean) => void;
  /** The pointer entered message `index`'s row, or left the ladder (null): the charts mark its time. */
  readonly onHover?: (index: number | null) => void;
}

const ARROW_HEAD = 7;
/** Distinct row keys: above the most rows a screen plus overscan can show (2160 px / 26 px + 40). */
const ROW_KEYS = 512;

function Arrow(props: {
  a: LadderArrow;
  lanes: readonly LadderLane[];
  width: number;
  selected: boolean;
  onSelect: (index: number, add: boolean) => void;
  onHover: ((index: number | null) => void) | undefined;
}) {
  const { a, lanes } = props;
  const x1 = lanes[a.fromLane]!.x;
  const x2 = lanes[a.toLane]!.x;
  const dir = x2 >= x1 ? 1 : -1;
  const cls = `lad-row lad-${a.kind}${a.retransmission ? ' lad-retr' : ''}${props.selected ? ' lad-sel' : ''}`;
  const top = a.y - LADDER_GEOMETRY.rowHeight + 7;
  const mid = (x1 + x2) / 2;
  const label = `${a.label}${a.sdp ? ' (SDP)' : ''}${a.retransmission ? ' (retr.)' : ''}`;
  return (
    <g
      class={cls}
      onMouseDown={(e) => {
        // Shift-click selects a second message, not the text between the two.
        if (e.shiftKey) e.preventDefault();
      }}
      onClick={(e) => {
        props.onSelect(a.index, e.shiftKey || e.ctrlKey || e.metaKey);
      }}
      onMouseEnter={() => {
        props.onHover?.(a.index);
      }}
    >
      <rect class="lad-hit" x={0} y={top} width={props.width} height={LADDER_GEOMETRY.rowHeight} />
      <text class="lad-time" x={4} y={a.y - 3}>
        {a.offset}
      </text>
      {x1 === x2 ? (
        // A message to its own address (a proxy looping back): a small loop on the right of the lane.
        <>
          <path class="lad-line" d={`M${x1},${a.y - 8} h24 v8 h-${24 - ARROW_HEAD}`} />
          <path class="lad-head" d={`M${x1},${a.y} l${ARROW_HEAD},-4 v8 z`} />
          <text class="lad-label" x={x1 + 28} y={a.y - 3}>
            {label}
          </text>
        </>
      ) : (
        <>
          <line class="lad-line" x1={x1} y1={a.y} x2={x2 - dir * ARROW_HEAD} y2={a.y} />
          <path class="lad-head" d={`M${x2},${a.y} l${-dir * ARROW_HEAD},-4 v8 z`} />
          <text class="lad-label" x={mid} y={a.y - 4} text-anchor="middle">
            {a.sdp ? <tspan class="lad-sdp">◆ </tspan> : null}
            {label}
          </text>
        </>
      )}
    </g>
  );
}

/**
 * The SIP ladder as SVG: a sticky row of lane names, then the lanes, the RTP bands and the message
 * arrows. Only the rows in view (plus an overscan) are in the DOM, so a ladder of thousands of
 * messages scrolls like a short one; lanes and bands are few and always drawn.
 */
export function SipLadder(props: SipLadderProps) {
  const scroller = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(600);
  const [view, setView] = useState({ top: 0, height: 800 });

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const measure = (): void => {
      setWidth(el.clientWidth);
      setView({ top: el.scrollTop, height: el.clientHeight });
    };
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => {
      ro.disconnect();
    };
  }, []);

  const layout = useMemo(
    () => layoutLadder(props.messages, props.streams, { width: width - 8, ...(props.caller ? { caller: props.caller } : {}), ...(props.callee ? { callee: props.callee } : {}) }),
    [props.messages, props.streams, props.caller, props.callee, width],
  );

  // Keyboard stepping (j/k) moves the selection: keep the selected row in view.
  const last = props.selected[props.selected.length - 1];
  useEffect(() => {
    const el = scroller.current;
    if (!el || last === undefined) return;
    const y = rowY(last);
    // Height of the sticky lane names (.lad-lanes in call-detail.css) above row 0.
    const headerH = 34;
    if (y - LADDER_GEOMETRY.rowHeight < el.scrollTop) el.scrollTop = Math.max(0, y - LADDER_GEOMETRY.rowHeight * 2);
    else if (y + headerH + 8 > el.scrollTop + el.clientHeight) el.scrollTop = y + headerH + LADDER_GEOMETRY.rowHeight * 2 - el.clientHeight;
  }, [last]);

  const frame = useRef(0);
  useEffect(
    () => () => {
      cancelAnimationFrame(frame.current);
    },
    [],
  );
  const onScroll = (): void => {
    if (frame.current) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = 0;
      const el = scroller.current;
      if (el) setView({ top: el.scrollTop, height: el.clientHeight });
    });
  };

  const { first, last: lastRow } = visibleRows(view.top, view.height, layout.arrows.length);
  const selected = new Set(props.selected);
  const rows: JSX.Element[] = [];
  for (let i = first; i <= lastRow; i++) {
    const a = layout.arrows[i]!;
    // Keys recycle (a row leaving the view hands its DOM nodes to the one entering): scrolling patches
    // attributes instead of creating and dropping elements. More keys than rows ever visible.
    rows.push(<Arrow key={i % ROW_KEYS} a={a} lanes={layout.lanes} width={layout.width} selected={selected.has(i)} onSelect={props.onSelect} onHover={props.onHover} />);
  }

  return (
    <div
      class="lad-scroll"
      ref={scroller}
      onScroll={onScroll}
      tabIndex={-1}
      onMouseLeave={() => {
        props.onHover?.(null);
      }}
    >
      <div class="lad-lanes" style={{ width: `${layout.width}px` }}>
        {layout.lanes.map((l) => (
          <div key={l.key} class="lad-lane-name" style={{ left: `${l.x}px` }} title={l.port === null ? `${l.ip}: RTP only (no SIP from this address)` : l.key}>
            <span class="mono">{l.key}</span>
            <span class="lad-role">{l.role ?? (l.port === null ? 'RTP only' : '')}</span>
          </div>
        ))}
      </div>
      <svg class="lad-svg" width={layout.width} height={layout.height} role="img" aria-label={`SIP ladder, ${layout.arrows.length} messages`}>
        {layout.lanes.map((l) => (
          <line key={l.key} class={l.port === null ? 'lad-lane lad-lane-media' : 'lad-lane'} x1={l.x} y1={0} x2={l.x} y2={layout.height} />
        ))}
        {layout.bands.map((b) => {
          const xa = layout.lanes[b.fromLane]!.x;
          const xb = layout.lanes[b.toLane]!.x;
          const left = Math.min(xa, xb) + 10;
          const span = Math.max(12, Math.abs(xb - xa) - 20);
          const w = span / b.slots;
          const x = left + w * b.slot;
          return (
            <g key={b.ssrc + String(b.slot)} class="lad-band">
              <title>{`${b.label} ${xa <= xb ? '→' : '←'}`}</title>
              <rect x={x + 1} y={b.y0} width={w - 2} height={b.y1 - b.y0} rx={3} />
              {/* Short text inside (several bands share the space between two lanes); the whole label on hover. */}
              <text x={x + 4} y={b.y0 + 11}>
                {`${xa <= xb ? '→' : '←'} ${b.codec}`}
              </text>
              {/* A codec change (re-INVITE): a dashed line across the band where the new codec starts, named. */}
              {b.changes.map((c, i) => (
                <g key={i} class="lad-codec-change">
                  <line x1={x + 1} y1={c.y} x2={x + w - 1} y2={c.y} />
                  <text x={x + 4} y={c.y + 11}>
                    {c.codec}
                  </text>
                </g>
              ))}
            </g>
          );
        })}
        {rows}
      </svg>
    </div>
  );
}
