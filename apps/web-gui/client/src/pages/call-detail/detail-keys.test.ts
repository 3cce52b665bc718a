import { describe, expect, it } from 'vitest';
import { detailKeyAction, type KeyPress } from './detail-keys.ts';

const press = (key: string, over: Partial<KeyPress> = {}): KeyPress => ({ key, ctrlKey: false, metaKey: false, altKey: false, targetTag: 'BODY', targetEditable: false, ...over });

describe('detailKeyAction', () => {
  it('maps the page keys', () => {
    expect(['Escape', 'p', 'w', ' ', 'j', 'ArrowDown', 'k', 'ArrowUp', 'c'].map((k) => detailKeyAction(press(k)))).toEqual([
      'back', 'pcap', 'wav', 'playPause', 'nextMessage', 'nextMessage', 'prevMessage', 'prevMessage', 'copyCallId',
    ]);
    expect(detailKeyAction(press('x'))).toBeNull();
    expect(detailKeyAction(press('P'))).toBeNull();
  });
  it('leaves typing in fields alone, Esc included', () => {
    for (const tag of ['INPUT', 'TEXTAREA', 'SELECT']) {
      expect(detailKeyAction(press('p', { targetTag: tag }))).toBeNull();
      expect(detailKeyAction(press('Escape', { targetTag: tag }))).toBeNull();
    }
    expect(detailKeyAction(press('p', { targetTag: 'DIV', targetEditable: true }))).toBeNull();
  });
  it('leaves space to buttons, links and the player, but keeps the other keys there', () => {
    expect(detailKeyAction(press(' ', { targetTag: 'BUTTON' }))).toBeNull();
    expect(detailKeyAction(press(' ', { targetTag: 'AUDIO' }))).toBeNull();
    expect(detailKeyAction(press(' ', { targetTag: 'svg' }))).toBe('playPause');
    expect(detailKeyAction(press('p', { targetTag: 'BUTTON' }))).toBe('pcap');
  });
  it('leaves browser shortcuts (Ctrl+P prints, Ctrl+C copies) alone', () => {
    expect(detailKeyAction(press('p', { ctrlKey: true }))).toBeNull();
    expect(detailKeyAction(press('c', { metaKey: true }))).toBeNull();
    expect(detailKeyAction(press('j', { altKey: true }))).toBeNull();
  });
});
