import { useMemo } from 'preact/hooks';
import { formatTime } from '../../lib/format.ts';
import type { LadderMessage } from '../../../../src/artifact-types.ts';
import { arrowLabel, endpointKey } from './ladder-layout.ts';
import { classifySipLines, diffLines } from './sip-text.ts';

function Title(props: { m: LadderMessage; index: number }) {
  const m = props.m;
  return (
    <div class="msg-title">
      <b>
        #{props.index + 1} {arrowLabel(m)}
      </b>{' '}
      <span class="mono">
        {endpointKey(m.src)} → {endpointKey(m.dst)}
      </span>{' '}
      <span class="cd-muted">
        {m.transport.toUpperCase()} {formatTime(m.time, 6)}
        {m.retransmission ? ' · retransmission' : ''}
      </span>
    </div>
  );
}

/** One raw message, start line and header names highlighted, body apart. Text only: a header's value is never markup. */
function RawMessage(props: { m: LadderMessage }) {
  const lines = useMemo(() => classifySipLines(props.m.raw), [props.m]);
  return (
    <pre class="msg-raw mono">
      {lines.map((l, i) => {
        switch (l.kind) {
          case 'start':
            return (
              <div key={i} class="msg-start">
                {l.text}
              </div>
            );
          case 'header':
            return (
              <div key={i}>
                <span class="msg-hname">{l.name}</span>
                {l.sep}
                <span class="msg-hval">{l.value}</span>
              </div>
            );
          case 'fold':
            return (
              <div key={i} class="msg-hval">
                {l.text}
              </div>
            );
          case 'blank':
            return <div key={i}>{'\u00a0'}</div>;
          case 'body':
            return (
              <div key={i} class="msg-body">
                {l.text || '\u00a0'}
              </div>
            );
        }
      })}
    </pre>
  );
}

/** Line diff of two messages (sngrep's compare): lines only in the first struck red, only in the second green. */
function MessageDiff(props: { a: LadderMessage; b: LadderMessage }) {
  const diff = useMemo(() => diffLines(props.a.raw, props.b.raw), [props.a, props.b]);
  const changed = diff.filter((d) => d.op !== 'same').length;
  return (
    <>
      <div class="cd-muted msg-diff-sum">{changed === 0 ? 'identical' : `${changed} lines differ`} (− first, + second)</div>
      <pre class="msg-raw mono">
        {diff.map((d, i) => (
          <div key={i} class={`diff-${d.op}`}>
            <span class="diff-op">{d.op === 'same' ? ' ' : d.op === 'del' ? '−' : '+'}</span>
            {d.text || '\u00a0'}
          </div>
        ))}
      </pre>
    </>
  );
}

/**
 * The message pane beside the ladder: the raw message of the selected arrow, or the diff of two
 * (Shift/Ctrl-click a second arrow).
 */
export function MessagePane(props: { messages: readonly LadderMessage[]; selected: readonly number[]; onClose: () => void }) {
  const [i, j] = props.selected;
  const a = i === undefined ? undefined : props.messages[i];
  const b = j === undefined ? undefined : props.messages[j];
  if (a === undefined || i === undefined) return null;
  return (
    <aside class="msg-pane" aria-label="SIP message">
      <div class="msg-head">
        <div>
          <Title m={a} index={i} />
          {b && j !== undefined ? <Title m={b} index={j} /> : <div class="cd-muted">Shift-click another arrow to compare · j/k step · Esc closes</div>}
        </div>
        <button type="button" class="cd-small" onClick={props.onClose} title="close (Esc)">
          ✕
        </button>
      </div>
      {b ? <MessageDiff a={a} b={b} /> : <RawMessage m={a} />}
    </aside>
  );
}
