import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { Ref } from 'preact';
import { ApiError, apiUrl } from '../../api.ts';
import { formatDuration } from '../../lib/format.ts';
import { asApiError } from './use-api.ts';
import { peakColumnsAt, tickStep, timeAtX, xOfTime, type PixelAxis } from './timeline.ts';
import { wavPeaks, type WavPeaks } from './wav-peaks.ts';

/** Which legs the WAV carries: stereo (caller left, callee right) or one leg. */
export type AudioLegs = 'stereo' | 'caller' | 'callee';

/**
 * Largest WAV held in memory for the waveform and played from there (one download): 48 MB is 25
 * minutes of stereo 8 kHz 16-bit. A longer call is played by the <audio> element straight from the
 * server (streamed, not held) and gets the clickable timeline without the waveform.
 */
export const WAVEFORM_MAX_BYTES = 48 * 1024 * 1024;
/** Columns of min/max computed once; the canvas scales them to its width. */
const PEAK_COLUMNS = 1600;

/** The WAV as loaded: its peaks and a `blob:` URL of its bytes for the player, or neither when it is too long to hold. */
type WaveState = { state: 'loading' } | { state: 'ok'; peaks: WavPeaks | null; blobUrl: string | null } | { state: 'error'; error: ApiError };

/** Text for an audio refusal: the codec named by UNSUPPORTED_CODEC, the reason of NO_AUDIO. */
function refusalText(e: ApiError): string {
  if (e.code === 'UNSUPPORTED_CODEC') return `No audio: ${e.message}`;
  if (e.code === 'NO_AUDIO') return `No audio: ${e.message}`;
  return `Audio unavailable (${e.code}): ${e.message}`;
}

/** Props of {@link AudioPanel}. */
export interface AudioPanelProps {
  readonly id: number;
  readonly start: string;
  /** Where the WAV's sample 0 lies on the call's timeline, s since the call's start. */
  readonly offset: number;
  /** The call's length, s: the timeline's extent when the WAV is not drawn. */
  readonly callSeconds: number;
  readonly audioRef: Ref<HTMLAudioElement>;
  /** Seek requests from elsewhere (charts): call time in s, with a counter so the same time seeks again. */
  readonly seek: { readonly t: number; readonly n: number } | null;
  /**
   * The charts' time axis: their x range (call seconds) and plot area (px from the left). The
   * waveform is drawn on it, so the audio lines up under the charts; null (no charts): the
   * waveform spans the audio alone.
   */
  readonly axis: { readonly lo: number; readonly hi: number; readonly left: number; readonly width: number } | null;
}

/**
 * The call's audio: an <audio> element over `/calls/{id}/audio` with a legs selector, the WAV
 * download, and a waveform (both channels for stereo) with a playhead where a click seeks. The
 * sensor's refusals (415 UNSUPPORTED_CODEC naming the codec, 404 NO_AUDIO) are shown as text.
 */
export function AudioPanel(props: AudioPanelProps) {
  const [legs, setLegs] = useState<AudioLegs>('stereo');
  const [wave, setWave] = useState<WaveState>({ state: 'loading' });
  const [playerError, setPlayerError] = useState(false);
  const [position, setPosition] = useState(0);
  const [duration, setDuration] = useState<number | null>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [canvasWidth, setCanvasWidth] = useState(0);
  const drawn = useRef<{ peaks: WavPeaks | null; key: string }>({ peaks: null, key: '' });
  const url = apiUrl(`calls/${props.id}/audio`, { start: props.start, legs });
  const audio = (): HTMLAudioElement | null => (props.audioRef as { current: HTMLAudioElement | null }).current;

  // One GET for the waveform and the player (the CSP allows `blob:` media); it also tells a refusal
  // apart, where the <audio> element would only say "error". A layout effect, as in use-api.ts: the
  // request leaves with the others, right after the first render.
  useLayoutEffect(() => {
    const ac = new AbortController();
    let blobUrl: string | null = null;
    drawn.current = { peaks: null, key: '' };
    setWave({ state: 'loading' });
    setPlayerError(false);
    (async () => {
      const res = await fetch(url, { credentials: 'same-origin', signal: ac.signal });
      if (!res.ok) {
        let code = `HTTP_${res.status}`;
        let message = res.statusText;
        try {
          const body = (await res.json()) as { error?: { code?: string; message?: string } };
          code = body.error?.code ?? code;
          message = body.error?.message ?? message;
        } catch {
          // not JSON: the status line says it
        }
        setWave({ state: 'error', error: new ApiError(res.status, code, message) });
        return;
      }
      const length = Number(res.headers.get('content-length') ?? 'NaN');
      if (!(length <= WAVEFORM_MAX_BYTES)) {
        await res.body?.cancel();
        setWave({ state: 'ok', peaks: null, blobUrl: null });
        return;
      }
      const bytes = await res.arrayBuffer();
      blobUrl = URL.createObjectURL(new Blob([bytes], { type: 'audio/wav' }));
      setWave({ state: 'ok', peaks: wavPeaks(bytes, PEAK_COLUMNS), blobUrl });
    })().catch((err: unknown) => {
      if (!ac.signal.aborted) setWave({ state: 'error', error: asApiError(err) });
    });
    return () => {
      ac.abort();
      if (blobUrl !== null) URL.revokeObjectURL(blobUrl);
    };
  }, [url]);

  const peaks = wave.state === 'ok' ? wave.peaks : null;
  // The WAV's own length when its samples are here (the player's duration says the same a moment
  // later, and would redraw the waveform for nothing), else the player's, else the call's.
  const total = peaks?.seconds ?? duration ?? Math.max(0.001, props.callSeconds - props.offset);

  // Playhead: follows the element while it plays (rAF), and on seeks while paused.
  useEffect(() => {
    const el = audio();
    if (!el) return;
    let frame = 0;
    const tick = (): void => {
      setPosition(el.currentTime);
      if (!el.paused) frame = requestAnimationFrame(tick);
    };
    const onMeta = (): void => {
      if (Number.isFinite(el.duration)) setDuration(el.duration);
    };
    const onError = (): void => {
      setPlayerError(true);
    };
    el.addEventListener('play', tick);
    el.addEventListener('seeked', tick);
    el.addEventListener('timeupdate', tick);
    el.addEventListener('loadedmetadata', onMeta);
    el.addEventListener('durationchange', onMeta);
    el.addEventListener('error', onError);
    return () => {
      cancelAnimationFrame(frame);
      el.removeEventListener('play', tick);
      el.removeEventListener('seeked', tick);
      el.removeEventListener('timeupdate', tick);
      el.removeEventListener('loadedmetadata', onMeta);
      el.removeEventListener('durationchange', onMeta);
      el.removeEventListener('error', onError);
    };
  }, [url]);

  // Seek requests from the charts, in call time.
  useEffect(() => {
    const el = audio();
    if (!el || props.seek === null) return;
    el.currentTime = Math.max(0, Math.min(total, props.seek.t - props.offset));
    // A play() interrupted by a pause or a new source rejects (AbortError): nothing to report; a
    // media that cannot play fires the element's error event, shown below the player.
    void el.play().catch(() => undefined);
  }, [props.seek]);

  /** The canvas' axis in call time: the charts' when given, else the audio's own span. */
  const axisOf = (w: number): PixelAxis => (props.axis ? { lo: props.axis.lo, hi: props.axis.hi, width: w } : { lo: props.offset, hi: props.offset + total, width: w });

  useLayoutEffect(() => {
    const c = canvas.current;
    // Nothing to draw before the answer; and reading the canvas' size forces a layout, which on the
    // first render would hold back the page's own requests (child effects run before the parent's).
    if (!c || wave.state !== 'ok') return;
    const dpr = devicePixelRatio;
    const w = c.clientWidth;
    const h = c.clientHeight;
    // Resizing the backing store reallocates it: only when the size really changed.
    const bw = Math.round(w * dpr);
    const bh = Math.round(h * dpr);
    if (c.width !== bw) c.width = bw;
    if (c.height !== bh) c.height = bh;
    const ctx = c.getContext('2d');
    if (!ctx || w === 0) return;
    // Several inputs settle one after the other (peaks, plot box, width): skip a draw of what is already drawn.
    const key = `${w}x${h}@${dpr} ${total} ${legs} ${props.offset} ${props.axis?.lo} ${props.axis?.hi} ${props.axis?.width}`;
    if (drawn.current.peaks === peaks && drawn.current.key === key) return;
    drawn.current = { peaks, key };
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const axis = axisOf(w);
    const axisH = 14;
    const plotH = h - axisH;
    // Where the audio lies on the axis (silence before and after it is not audio, and not drawn).
    const a0 = Math.max(0, xOfTime(props.offset, axis));
    const a1 = Math.min(w, xOfTime(props.offset + total, axis));
    ctx.fillStyle = '#f6f8fa';
    ctx.fillRect(a0, 0, Math.max(0, a1 - a0), plotH);
    if (peaks) {
      const channels = peaks.min.length;
      const rowH = plotH / channels;
      const names = channels === 2 ? ['caller', 'callee'] : [legs === 'stereo' ? 'mono' : legs];
      for (let ch = 0; ch < channels; ch++) {
        const mid = rowH * ch + rowH / 2;
        const mins = peaks.min[ch]!;
        const maxs = peaks.max[ch]!;
        ctx.fillStyle = ch === 0 ? '#1f6feb' : '#d46b08';
        // One path of 1 px bars, filled once: a fill per pixel costs far more in software rendering.
        const amp = rowH / 2 - 1;
        ctx.beginPath();
        for (let x = 0; x < w; x++) {
          const [first, end] = peakColumnsAt(x, axis, props.offset, peaks.seconds, PEAK_COLUMNS);
          if (first >= end) continue;
          let lo = 0;
          let hi = 0;
          for (let col = first; col < end; col++) {
            if (mins[col]! < lo) lo = mins[col]!;
            if (maxs[col]! > hi) hi = maxs[col]!;
          }
          ctx.rect(x, mid - hi * amp, 1, Math.max(1, (hi - lo) * amp));
        }
        ctx.fill();
        ctx.fillStyle = '#6b7280';
        ctx.font = '10px system-ui, sans-serif';
        ctx.fillText(names[ch] ?? '', a0 + 3, rowH * ch + 11);
      }
    } else {
      ctx.fillStyle = '#d0d5dc';
      ctx.fillRect(a0, plotH / 2 - 2, Math.max(0, a1 - a0), 4);
    }
    // Ticks in call time (s since the call's start), the axis the charts use.
    ctx.fillStyle = '#6b7280';
    ctx.font = '10px system-ui, sans-serif';
    const step = tickStep(axis);
    for (let t = Math.ceil(axis.lo / step) * step; t <= axis.hi; t += step) {
      const x = xOfTime(t, axis);
      ctx.fillRect(x, plotH, 1, 4);
      ctx.fillText(step < 1 ? `${t.toFixed(1)}s` : `${t}s`, x + 2, h - 2);
    }
    // The axis by value: a new object with the same numbers must not redraw.
  }, [wave.state, peaks, total, legs, props.offset, props.axis?.lo, props.axis?.hi, props.axis?.width, canvasWidth]);

  // The canvas is redrawn when its width changes (layout switch, window resize); the playhead is a
  // separate element, so playing moves one div instead of redrawing the waveform every frame.
  useLayoutEffect(() => {
    const c = canvas.current;
    if (!c) return;
    const ro = new ResizeObserver(() => {
      setCanvasWidth(c.clientWidth);
    });
    ro.observe(c);
    return () => {
      ro.disconnect();
    };
  }, [wave.state]);
  const headX = canvasWidth > 0 ? Math.max(0, Math.min(canvasWidth - 2, xOfTime(props.offset + position, axisOf(canvasWidth)))) : 0;

  const onCanvasClick = (e: MouseEvent): void => {
    const el = audio();
    const c = canvas.current;
    if (!el || !c) return;
    const r = c.getBoundingClientRect();
    const t = timeAtX(e.clientX - r.left, axisOf(r.width)) - props.offset;
    el.currentTime = Math.max(0, Math.min(total, t));
    setPosition(el.currentTime);
  };

  const refused = wave.state === 'error' ? wave.error : null;
  return (
    <div class="au">
      <div class="au-bar">
        <label>
          legs{' '}
          <select value={legs} onChange={(e) => { setLegs((e.currentTarget).value as AudioLegs); }}>
            <option value="stereo">stereo (caller left, callee right)</option>
            <option value="caller">caller only</option>
            <option value="callee">callee only</option>
          </select>
        </label>
        {/* Kept in the DOM when refused (space and the charts address it), but hidden: there is nothing to play. */}
        <audio ref={props.audioRef} controls preload="auto" src={wave.state === 'ok' ? (wave.blobUrl ?? url) : undefined} class="au-player" hidden={wave.state === 'error'} />
        {wave.state === 'error' ? null : (
          <a class="cd-button" href={url} download title="download the WAV (w)">
            WAV
          </a>
        )}
        {wave.state === 'error' ? null : (
          <span class="cd-muted mono" title="position on the call's timeline">
            {formatDuration(position + props.offset)} / {formatDuration(total + props.offset)}
          </span>
        )}
      </div>
      {refused ? (
        <p class="au-refused" role="status">
          {refusalText(refused)}
        </p>
      ) : (
        <div class="au-wave-box" style={props.axis ? { marginLeft: `${props.axis.left}px`, width: `${props.axis.width}px` } : undefined}>
          <canvas
            ref={canvas}
            class="au-wave"
            onClick={onCanvasClick}
            title={peaks === null && wave.state === 'ok' ? 'call too long for a waveform: click to seek' : 'click to seek'}
          />
          <div class="au-head" style={{ left: `${headX}px` }} />
        </div>
      )}
      {playerError && !refused ? <p class="au-refused">The player could not load the audio.</p> : null}
      {wave.state === 'loading' ? <p class="cd-muted au-note">loading waveform…</p> : null}
    </div>
  );
}
