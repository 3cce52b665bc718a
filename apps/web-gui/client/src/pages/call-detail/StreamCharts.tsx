import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { ChartData, StreamCurves, TimelineEvent } from './timeline.ts';

/** Stream colours in order; the side is also in each series' label. */
const PALETTE = ['#1f6feb', '#d46b08', '#8250df', '#1a7f37', '#cf222e', '#0a7ea4', '#9a6700', '#6e7781'];

/** Props of {@link StreamCharts}. */
export interface StreamChartsProps {
  readonly data: ChartData;
  /** The call's events (INVITE, answer, hold, BYE, DTMF), drawn as vertical marks on every chart. */
  readonly events: readonly TimelineEvent[];
  /** The x range of every chart: the call's timeline, s since its start. */
  readonly range: readonly [number, number];
  /** The selected ladder message's time (s since start), marked on every chart; null for none. */
  readonly marker: number | null;
  /** Click on a chart at call time `t` (seeks the audio there). */
  readonly onPick: (t: number) => void;
  /** uPlot cursor sync key: the charts of one call move their cursors together. */
  readonly syncKey: string;
  /** Told where the plot area lies (px from the charts' left edge, and its width), after each layout: the waveform lines up under it. */
  readonly onPlotBox?: (box: { left: number; width: number }) => void;
}

type Metric = 'jitter' | 'lost' | 'mos';

const HEIGHT = 130;

function seriesFor(metric: Metric, streams: readonly StreamCurves[], showF1: boolean, showF2: boolean): uPlot.Series[] {
  const out: uPlot.Series[] = [{ label: 's' }];
  streams.forEach((s, i) => {
    const stroke = PALETTE[i % PALETTE.length]!;
    const name = `${s.side ?? '?'} ${s.ssrc}`;
    if (metric === 'jitter') out.push({ label: `${name} jitter ms`, stroke, width: 1.5, spanGaps: false });
    else if (metric === 'lost') out.push({ label: `${name} lost/s`, stroke, width: 1.5, spanGaps: false, paths: uPlot.paths.stepped?.({ align: 1 }) });
    else {
      out.push({ label: `${name} adapt`, stroke, width: 1.5, spanGaps: false });
      // F1 / F2 only when switched on: hidden series would still crowd the legend.
      if (showF1) out.push({ label: `${name} F1`, stroke, width: 1, dash: [6, 3], spanGaps: false });
      if (showF2) out.push({ label: `${name} F2`, stroke, width: 1, dash: [2, 3], spanGaps: false });
    }
  });
  return out;
}

function dataFor(metric: Metric, d: ChartData, showF1: boolean, showF2: boolean): uPlot.AlignedData {
  const ys: (number | null)[][] = [];
  for (const s of d.streams) {
    if (metric === 'jitter') ys.push(s.jitterMs);
    else if (metric === 'lost') ys.push(s.lost);
    else {
      ys.push(s.mosAdapt);
      if (showF1) ys.push(s.mosF1);
      if (showF2) ys.push(s.mosF2);
    }
  }
  return [d.x, ...ys] as uPlot.AlignedData;
}

/** Draws the event marks and the selected message's mark over a chart's plot area. */
function marksPlugin(events: () => readonly TimelineEvent[], marker: () => number | null): uPlot.Plugin {
  return {
    hooks: {
      draw: [
        (u) => {
          const ctx = u.ctx;
          const { top, height, left, width } = u.bbox;
          const dpr = devicePixelRatio;
          ctx.save();
          ctx.font = `${10 * dpr}px system-ui, sans-serif`;
          ctx.textBaseline = 'top';
          let lastLabelX = -Infinity;
          for (const e of events()) {
            const x = Math.round(u.valToPos(e.t, 'x', true));
            if (x < left || x > left + width) continue;
            ctx.strokeStyle = e.kind === 'dtmf' ? '#8250df88' : '#6b728088';
            ctx.setLineDash([3 * dpr, 3 * dpr]);
            ctx.lineWidth = dpr;
            ctx.beginPath();
            ctx.moveTo(x, top);
            ctx.lineTo(x, top + height);
            ctx.stroke();
            // Labels only where they do not overlap the previous one; the line is always drawn.
            if (x - lastLabelX > 46 * dpr) {
              ctx.fillStyle = e.kind === 'dtmf' ? '#8250df' : '#6b7280';
              ctx.fillText(e.label, x + 2 * dpr, top + 1);
              lastLabelX = x;
            }
          }
          const m = marker();
          if (m !== null) {
            const x = Math.round(u.valToPos(m, 'x', true));
            if (x >= left && x <= left + width) {
              ctx.setLineDash([]);
              ctx.strokeStyle = '#cf222e';
              ctx.lineWidth = 2 * dpr;
              ctx.beginPath();
              ctx.moveTo(x, top);
              ctx.lineTo(x, top + height);
              ctx.stroke();
            }
          }
          ctx.restore();
        },
      ],
    },
  };
}

/**
 * Jitter, loss and MOS per second for every stream (uPlot), on the call's one time axis: the same
 * x range on each chart, cursors moving together, the call's SIP events and DTMF marked, the
 * selected ladder message marked in red. A click seeks the audio to that moment. MOS shows the
 * adaptive buffer; F1 (50 ms) and F2 (200 ms) can be switched on.
 */
export function StreamCharts(props: StreamChartsProps) {
  const wrap = useRef<HTMLDivElement>(null);
  const holders = { jitter: useRef<HTMLDivElement>(null), lost: useRef<HTMLDivElement>(null), mos: useRef<HTMLDivElement>(null) };
  const plots = useRef<uPlot[]>([]);
  const [showF1, setShowF1] = useState(false);
  const [showF2, setShowF2] = useState(false);
  // The draw hook reads the latest events and marker through refs: redrawing is cheaper than rebuilding.
  const eventsRef = useRef(props.events);
  eventsRef.current = props.events;
  const markerRef = useRef(props.marker);
  markerRef.current = props.marker;
  const pickRef = useRef(props.onPick);
  pickRef.current = props.onPick;
  const boxRef = useRef(props.onPlotBox);
  boxRef.current = props.onPlotBox;

  useEffect(() => {
    const el = wrap.current;
    if (!el || props.data.x.length === 0) return;
    const width = Math.max(300, el.clientWidth);
    const metrics: [Metric, string][] = [
      ['jitter', 'jitter ms'],
      ['lost', 'lost / s'],
      ['mos', 'MOS'],
    ];
    const made = metrics.map(([metric, yLabel]) => {
      const target = holders[metric].current!;
      const opts: uPlot.Options = {
        width,
        height: HEIGHT,
        series: seriesFor(metric, props.data.streams, showF1, showF2),
        scales: {
          x: { time: false, range: [props.range[0], props.range[1]] },
          y: metric === 'mos' ? { range: [1, 4.5] } : { range: (_u, min, max) => [Math.min(0, min), Math.max(1, max)] },
        },
        axes: [
          { size: 28, values: (_u, splits) => splits.map((v) => `${v}s`) },
          { label: yLabel, size: 46, labelSize: 14 },
        ],
        cursor: { sync: { key: props.syncKey }, drag: { x: false, y: false } },
        legend: { show: true, live: true },
        plugins: [marksPlugin(() => eventsRef.current, () => markerRef.current)],
      };
      const u = new uPlot(opts, dataFor(metric, props.data, showF1, showF2), target);
      u.over.addEventListener('click', () => {
        const left = u.cursor.left;
        if (left !== undefined && left >= 0) pickRef.current(u.posToVal(left, 'x'));
      });
      return u;
    });
    plots.current = made;
    const tellBox = (): void => {
      const over = made[0]?.over.getBoundingClientRect();
      const outer = el.getBoundingClientRect();
      if (over && over.width > 0) boxRef.current?.({ left: over.left - outer.left, width: over.width });
    };
    tellBox();
    const ro = new ResizeObserver(() => {
      const w = Math.max(300, el.clientWidth);
      for (const u of made) if (u.width !== w) u.setSize({ width: w, height: HEIGHT });
      tellBox();
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      for (const u of made) u.destroy();
      plots.current = [];
    };
    // Rebuilt when the data or the toggles change; events and marker only redraw (below).
  }, [props.data, props.range[0], props.range[1], props.syncKey, showF1, showF2]);

  useEffect(() => {
    for (const u of plots.current) u.redraw(false);
  }, [props.events, props.marker]);

  if (props.data.x.length === 0) return <p class="cd-muted">No RTP packets to chart.</p>;
  return (
    <div class="ch-wrap" ref={wrap}>
      <div class="ch-toggles">
        <label>
          <input type="checkbox" checked={showF1} onChange={(e) => { setShowF1((e.currentTarget).checked); }} /> MOS F1 (50 ms)
        </label>
        <label>
          <input type="checkbox" checked={showF2} onChange={(e) => { setShowF2((e.currentTarget).checked); }} /> MOS F2 (200 ms)
        </label>
        <span class="cd-muted">1 s buckets · click a chart to play from there</span>
      </div>
      <div ref={holders.jitter} />
      <div ref={holders.lost} />
      <div ref={holders.mos} />
    </div>
  );
}
