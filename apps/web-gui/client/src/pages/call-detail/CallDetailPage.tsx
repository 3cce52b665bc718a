import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { CallDetailBody, RelatedCallsBody, SessionBody } from '../../../../src/api-types.ts';
import { apiUrl } from '../../api.ts';
import { navigate } from '../../router.ts';
import type { LadderBody, SeriesBody } from '../../../../src/artifact-types.ts';
import { AudioPanel } from './AudioPanel.tsx';
import { CallHeader, type CopyState } from './CallHeader.tsx';
import { ForkBranches } from './ForkBranches.tsx';
import { detailKeyAction } from './detail-keys.ts';
import { MessagePane } from './MessagePane.tsx';
import { RelatedCalls } from './RelatedCalls.tsx';
import { sortByTime } from './ladder-layout.ts';
import { SipLadder } from './SipLadder.tsx';
import { StreamCharts } from './StreamCharts.tsx';
import { StreamsTable } from './StreamsTable.tsx';
import { audioOffset, secondsBetween, shapeSeries, timelineEvents } from './timeline.ts';
import { useApi, type Resource } from './use-api.ts';
import './call-detail.css';

/** One empty list for "not loaded yet", so memoised layouts do not see a new array each render. */
const NONE: readonly never[] = [];

/** A section's loading / error line, or its content once the resource is there. */
function Part<T>(props: { res: Resource<T>; what: string; children: (data: T) => ComponentChildren }) {
  const r = props.res;
  if (r.state === 'loading') return <p class="cd-muted cd-loading">loading {props.what}…</p>;
  if (r.state === 'error')
    return (
      <p class="cd-error" role="status">
        {props.what}: {r.error.code} — {r.error.message}
      </p>
    );
  return <>{props.children(r.data)}</>;
}

/** Back to where the user came from (the list with its filter), or to the list when the call was opened directly. */
function goBack(): void {
  if (window.history.length > 1) window.history.back();
  else navigate('/calls');
}

/**
 * Copies the Call-ID. The Clipboard API exists only in a secure context (HTTPS or loopback); on
 * plain HTTP to a remote GUI the Call-ID text is selected instead, for Ctrl+C.
 *
 * @returns whether the text reached the clipboard
 */
async function copyCallId(text: string): Promise<boolean> {
  if (window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return true;
  }
  const el = document.querySelector('.cd-callid');
  if (el) window.getSelection()?.selectAllChildren(el);
  return false;
}

/**
 * One call on one screen (`/calls/{id}?start=ISO`): header, SIP ladder with the message pane,
 * streams table, charts on the call's timeline, audio, pcap and related legs. The CDR, the ladder,
 * the series and the related legs are requested together at mount (the `start` in the URL is all
 * they need), so the screen is as fast as the slowest of them, not their sum; each part shows its
 * own loading or error state.
 */
export function CallDetailPage(props: { session: SessionBody; id: number; query: URLSearchParams }) {
  const start = props.query.get('start') ?? '';
  const q = { start };
  const detail = useApi<CallDetailBody>(`calls/${props.id}`, q);
  const sip = useApi<LadderBody>(`calls/${props.id}/sip`, q);
  const series = useApi<SeriesBody>(`calls/${props.id}/streams`, q);
  const related = useApi<RelatedCallsBody>(`calls/${props.id}/related`, q);

  const [selected, setSelected] = useState<number[]>([]);
  const [copyState, setCopyState] = useState<CopyState>('idle');
  const [seek, setSeek] = useState<{ t: number; n: number } | null>(null);
  const [hover, setHover] = useState<number | null>(null);
  const audioRef = useRef<HTMLAudioElement>(null);
  const pcapLink = useRef<HTMLAnchorElement>(null);
  const wavLink = useRef<HTMLAnchorElement>(null);
  const pcapUrl = apiUrl(`calls/${props.id}/pcap`, { start });

  // A new call (related leg) starts with nothing selected.
  useEffect(() => {
    setSelected([]);
    setSeek(null);
    setHover(null);
  }, [props.id, start]);

  const call = detail.state === 'ok' ? detail.data.call : null;
  // Time order, once per ladder: the selection's indexes, the keyboard stepping and the layout all use it.
  const messages = useMemo(() => (sip.state === 'ok' ? sortByTime(sip.data.messages) : null), [sip]);

  const onSelect = useCallback((index: number, add: boolean) => {
    setSelected((cur) => {
      if (!add) return cur.length === 1 && cur[0] === index ? [] : [index];
      if (cur.length === 0) return [index];
      if (cur.includes(index)) return cur.filter((i) => i !== index);
      return [cur[0]!, index];
    });
  }, []);

  const onCopy = useCallback(() => {
    if (!call) return;
    const show = (state: CopyState): void => {
      setCopyState(state);
      setTimeout(() => {
        setCopyState('idle');
      }, 2000);
    };
    copyCallId(call.call_id).then(
      (ok) => {
        show(ok ? 'copied' : 'selected');
      },
      () => {
        // The browser refused the clipboard (permission): say so; the text can still be selected by hand.
        show('failed');
      },
    );
  }, [call]);

  // The key handler reads the latest state through refs: two presses within one frame (before an
  // effect could re-register a handler) must both count.
  const selectedRef = useRef(selected);
  selectedRef.current = selected;
  const messagesRef = useRef(messages);
  messagesRef.current = messages;
  const onCopyRef = useRef(onCopy);
  onCopyRef.current = onCopy;

  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      const t = e.target as HTMLElement | null;
      const action = detailKeyAction({ key: e.key, ctrlKey: e.ctrlKey, metaKey: e.metaKey, altKey: e.altKey, targetTag: t?.tagName ?? '', targetEditable: t?.isContentEditable ?? false });
      if (action === null) return;
      e.preventDefault();
      const count = messagesRef.current?.length ?? 0;
      switch (action) {
        case 'back':
          if (selectedRef.current.length) setSelected([]);
          else goBack();
          break;
        case 'pcap':
          pcapLink.current?.click();
          break;
        case 'wav':
          wavLink.current?.click();
          break;
        case 'playPause': {
          const el = audioRef.current;
          if (el) {
            // play() rejects when a pause or a new source interrupts it (AbortError): nothing to
            // report; a media that cannot play fires the element's error event, which the panel shows.
            if (el.paused) void el.play().catch(() => undefined);
            else el.pause();
          }
          break;
        }
        case 'nextMessage':
        case 'prevMessage':
          if (count === 0) break;
          setSelected((cur) => {
            const at = cur[cur.length - 1];
            return [at === undefined ? 0 : Math.max(0, Math.min(count - 1, at + (action === 'nextMessage' ? 1 : -1)))];
          });
          break;
        case 'copyCallId':
          onCopyRef.current();
          break;
      }
    };
    window.addEventListener('keydown', onKey);
    return () => {
      window.removeEventListener('keydown', onKey);
    };
  }, []);

  const chartData = useMemo(() => (series.state === 'ok' && call ? shapeSeries(series.data, call.start) : null), [series, call]);
  const events = useMemo(() => (call ? timelineEvents(call.start, call.answer, messages ?? NONE, call.dtmf) : []), [call, messages]);
  const range = useMemo((): [number, number] => {
    if (!call) return [0, 1];
    const lastX = chartData?.x[chartData.x.length - 1] ?? 0;
    return [Math.min(0, chartData?.x[0] ?? 0), Math.max(call.duration, lastX + 1, 1)];
  }, [call, chartData]);
  // The charts mark the message under the pointer, else the selected one: its moment on the call's axis.
  const marked = hover ?? selected[selected.length - 1];
  const markedMessage = marked === undefined ? undefined : messages?.[marked];
  const marker = call && markedMessage ? secondsBetween(call.start, markedMessage.time) : null;
  const [plotBox, setPlotBox] = useState<{ left: number; width: number } | null>(null);
  const onPlotBox = useCallback((box: { left: number; width: number }) => {
    setPlotBox((cur) => (cur && cur.left === box.left && cur.width === box.width ? cur : box));
  }, []);
  const waveAxis = useMemo(() => (plotBox && chartData && chartData.x.length > 0 ? { lo: range[0], hi: range[1], ...plotBox } : null), [plotBox, chartData, range]);
  const onPick = useCallback((t: number) => {
    setSeek((s) => ({ t, n: (s?.n ?? 0) + 1 }));
  }, []);

  const caller = useMemo(() => (call ? { ip: call.caller_ip, port: call.caller_port } : undefined), [call]);
  const callee = useMemo(() => (call ? { ip: call.callee_ip, port: call.callee_port } : undefined), [call]);

  if (!start)
    return (
      <main class="cd">
        <p class="cd-error">This link lacks the call's start (`?start=`): open the call from the list.</p>
      </main>
    );

  return (
    <main class="cd">
      <header class="cd-header">
        <div class="cd-top">
          <button type="button" class="cd-button" onClick={goBack} title="back to the list (Esc)">
            ← calls
          </button>
          <a ref={pcapLink} class="cd-button cd-primary" href={pcapUrl} download title="download the call's pcap for Wireshark (p)">
            pcap
          </a>
          <a ref={wavLink} class="cd-button" href={apiUrl(`calls/${props.id}/audio`, { start, legs: 'stereo' })} download title="download the stereo WAV, caller left (w)">
            WAV
          </a>
          <span class="cd-muted cd-keys">Esc back · p pcap · w WAV · space play · j/k messages · c copy Call-ID</span>
        </div>
        <Part res={detail} what="call">
          {(d) => <CallHeader call={d.call} onCopyCallId={onCopy} copyState={copyState} />}
        </Part>
      </header>
      <section class="cd-ladder" aria-label="SIP ladder">
        <Part res={sip} what="SIP ladder">
          {(l) => (
            <>
              {l.truncated ? (
                <p class="cd-warning">
                  Showing the first {l.count} of {l.messagesSeen} SIP messages.
                </p>
              ) : null}
              {l.messages.length === 0 ? <p class="cd-muted">No SIP message in the spool for this call.</p> : null}
              <div class="cd-ladder-body">
                <SipLadder messages={messages ?? NONE} streams={call?.streams ?? NONE} caller={caller} callee={callee} selected={selected} onSelect={onSelect} onHover={setHover} />
                <MessagePane
                  messages={messages ?? NONE}
                  selected={selected}
                  onClose={() => {
                    setSelected([]);
                  }}
                />
              </div>
            </>
          )}
        </Part>
      </section>
      <section class="cd-side">
        {call && call.branches.length > 0 ? (
          <>
            <h2>Fork branches</h2>
            <ForkBranches start={call.start} branches={call.branches} />
          </>
        ) : null}
        <h2>Streams</h2>
        <Part res={detail} what="streams">
          {(d) => <StreamsTable streams={d.call.streams} />}
        </Part>
        <h2>Quality over time</h2>
        <Part res={series} what="stream series">
          {() => (chartData && call ? <StreamCharts data={chartData} events={events} range={range} marker={marker} onPick={onPick} syncKey={`call-${props.id}`} onPlotBox={onPlotBox} /> : <p class="cd-muted cd-loading">loading call…</p>)}
        </Part>
        <h2>Audio</h2>
        {/* Not behind the CDR: the audio request starts with the others; the offset and length follow when the CDR arrives. */}
        <AudioPanel id={props.id} start={start} offset={call ? audioOffset(call.start, call.streams) : 0} callSeconds={call?.duration ?? 0} audioRef={audioRef} seek={seek} axis={waveAxis} />
        <h2>Related legs</h2>
        <Part res={related} what="related legs">
          {(r) => <RelatedCalls related={r} linked={call?.linked_legs ?? NONE} />}
        </Part>
      </section>
    </main>
  );
}
