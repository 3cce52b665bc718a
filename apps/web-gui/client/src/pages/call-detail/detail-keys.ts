/**
 * Keyboard of the call detail (GUI.md: mostly keyboard): Esc closes the message pane or goes back
 * to the list, `p` downloads the pcap, `w` the WAV, space plays or pauses, `j` / `k` (or the arrow
 * keys) step through the ladder's messages, `c` copies the Call-ID. Pure: the page maps the
 * action to what it does; the tests pin which keys are left to the browser.
 */

/** What a key press asks of the page. */
export type DetailAction = 'back' | 'pcap' | 'wav' | 'playPause' | 'nextMessage' | 'prevMessage' | 'copyCallId';

/** The parts of a KeyboardEvent that decide the action. */
export interface KeyPress {
  readonly key: string;
  readonly ctrlKey: boolean;
  readonly metaKey: boolean;
  readonly altKey: boolean;
  /** tagName of the event's target (`INPUT`, `BUTTON`, ...), upper case. */
  readonly targetTag: string;
  readonly targetEditable: boolean;
}

/** Targets that take typing themselves: no shortcut there (Esc included: it leaves the field's own job to it). */
const TEXT_TARGETS = new Set(['INPUT', 'TEXTAREA', 'SELECT']);
/** Targets where space already means something (press a button, follow a link, the player's own controls). */
const SPACE_TARGETS = new Set(['BUTTON', 'A', 'AUDIO', 'SUMMARY']);

/** The action of a key press, or null to leave it to the browser. */
export function detailKeyAction(k: KeyPress): DetailAction | null {
  if (k.ctrlKey || k.metaKey || k.altKey) return null;
  if (k.targetEditable || TEXT_TARGETS.has(k.targetTag)) return null;
  switch (k.key) {
    case 'Escape':
      return 'back';
    case 'p':
      return 'pcap';
    case 'w':
      return 'wav';
    case 'c':
      return 'copyCallId';
    case ' ':
      return SPACE_TARGETS.has(k.targetTag) ? null : 'playPause';
    case 'j':
    case 'ArrowDown':
      return 'nextMessage';
    case 'k':
    case 'ArrowUp':
      return 'prevMessage';
    default:
      return null;
  }
}
