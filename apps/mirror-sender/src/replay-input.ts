import { readCaptureFile, type PacketCallback } from '@callscope/pcap-store';
import type { MirrorSender } from './mirror-sender.js';

/** Outcome of {@link replayFiles}. */
export interface ReplayResult {
  /** Packets read from the files and handed to the sender. */
  packets: number;
  /** Files that could not be read (or ended in an error) and were skipped. */
  fileErrors: number;
}

/** Options of {@link replayFiles}. */
export interface ReplayOptions {
  /** Stops reading between packets. */
  signal?: AbortSignal;
  /** Told about a file that could not be read; the replay goes on with the next one. */
  onFileError?: (file: string, err: Error) => void;
}

/**
 * Sends capture files (pcap, pcapng, gzip) through the sender at file speed, with their recorded
 * capture times. Back-pressure: after each packet the reader waits while the sender has no room
 * (link down or slow, window half full), so memory stays bounded by the window whatever the file's
 * size, and a replay loses nothing to overflow however long the link is down.
 */
export async function replayFiles(files: readonly string[], sender: MirrorSender, options: ReplayOptions = {}): Promise<ReplayResult> {
  const result: ReplayResult = { packets: 0, fileErrors: 0 };
  const signal = options.signal;
  // A stop must also end a wait for room (the link may never come back).
  const stopped =
    signal === undefined
      ? null
      : new Promise<void>((resolve) => {
          if (signal.aborted) resolve();
          signal.addEventListener('abort', () => {
            resolve();
          }, { once: true });
        });
  const onPacket: PacketCallback = (rec) => {
    result.packets++;
    sender.add(rec);
    const wait = sender.room();
    return wait === undefined || stopped === null ? wait : Promise.race([wait, stopped]);
  };
  // A function, not a narrowed property: the flag changes across awaits.
  const aborted = (): boolean => signal?.aborted === true;
  for (const file of files) {
    if (aborted()) break;
    try {
      await readCaptureFile(file, onPacket, signal !== undefined ? { signal } : {});
    } catch (err) {
      if (aborted()) break;
      result.fileErrors++;
      options.onFileError?.(file, err instanceof Error ? err : new Error(String(err)));
    }
  }
  sender.flush();
  return result;
}
