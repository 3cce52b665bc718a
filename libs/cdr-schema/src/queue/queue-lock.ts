/**
 * One writer per queue directory (issue 18, finding 2: two writers appending to and trimming the
 * same segments lost 8,200 of 30,000 CDRs).
 *
 * The lock is a Linux abstract Unix socket named after the directory's device and inode: binding
 * it is atomic, it needs no disk space (a queue is most needed when its disk is full), and the
 * kernel releases it when the process dies however it dies, so a SIGKILLed writer never leaves a
 * stale lock behind. Beside it, a `lock` file says who holds it (pid, command, since) for the
 * error message and `sniffer queue status`; it is written in place and best effort.
 *
 * Abstract sockets belong to a network namespace: two writers in different namespaces on one
 * filesystem would both bind. The `lock` file closes that gap where it can: a live process other
 * than this one named in it (same boot, same start time) is a holder too.
 *
 * @packageDocumentation
 */
import { createServer, type Server } from 'node:net';
import { readFileSync } from 'node:fs';
import { open, readFile, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

/** Who holds (or held) a queue, from its `lock` file. */
export interface QueueHolder {
  pid: number;
  /** What the holder said it is, e.g. "sniffer analyze". */
  command: string;
  /** ISO time the lock was taken. */
  since: string;
  /** /proc/<pid>/stat start time (clock ticks since boot), to tell a reused pid. */
  start_ticks: number | null;
  /** /proc/sys/kernel/random/boot_id of the holder's boot. */
  boot_id: string | null;
}

/** A held queue lock; {@link QueueLock.release} gives it up. */
export interface QueueLock {
  readonly holder: QueueHolder;
  release(): Promise<void>;
}

/** Raised when another live process holds the queue. */
export class QueueLockedError extends Error {
  readonly code = 'CDR_QUEUE_LOCKED';
  constructor(
    readonly dir: string,
    readonly holder: QueueHolder | null,
  ) {
    super(
      `the CDR queue ${dir} is in use by ` +
        (holder === null ? 'another process' : `pid ${holder.pid} (${holder.command}, since ${holder.since})`) +
        ': one writer per queue directory; wait for it to finish, or give this run its own queue directory',
    );
    this.name = 'QueueLockedError';
  }
}

const LOCK_FILE = 'lock';

function bootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return null;
  }
}

function startTicks(pid: number): number | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22; the command name (field 2) may hold spaces and parentheses, so count from its end.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const v = Number(fields[19]);
    return Number.isFinite(v) ? v : null;
  } catch {
    return null;
  }
}

/**
 * Opens `path` for writing in place (created empty if missing; never truncated or appended to):
 * rewriting blocks a file already has needs no free space, so the queue's small state files
 * (cursor, lock) can still be updated on a full disk once they exist.
 */
export async function openInPlace(path: string): Promise<FileHandle> {
  await (await open(path, 'a')).close();
  return open(path, 'r+');
}

/** Whether the process a `lock` file names is alive and is the one that wrote it. */
export function holderAlive(h: QueueHolder): boolean {
  const boot = bootId();
  if (h.boot_id !== null && boot !== null && h.boot_id !== boot) return false;
  try {
    process.kill(h.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const ticks = startTicks(h.pid);
  return h.start_ticks === null || ticks === null || ticks === h.start_ticks;
}

/** The `lock` file's holder, if the file is there and readable. */
export async function readQueueHolder(dir: string): Promise<QueueHolder | null> {
  try {
    const parsed = JSON.parse((await readFile(join(dir, LOCK_FILE), 'utf8')).replace(/\s+$/, '')) as Partial<QueueHolder>;
    if (typeof parsed.pid !== 'number') return null;
    return {
      pid: parsed.pid,
      command: typeof parsed.command === 'string' ? parsed.command : 'unknown',
      since: typeof parsed.since === 'string' ? parsed.since : 'unknown',
      start_ticks: typeof parsed.start_ticks === 'number' ? parsed.start_ticks : null,
      boot_id: typeof parsed.boot_id === 'string' ? parsed.boot_id : null,
    };
  } catch {
    return null;
  }
}

async function socketName(dir: string): Promise<string> {
  const st = await stat(dir, { bigint: true });
  return `\0callscope/cdr-queue/${st.dev}:${st.ino}`;
}

function bind(name: string): Promise<Server | null> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') resolve(null);
      else reject(err);
    });
    server.listen({ path: name }, () => {
      server.unref();
      resolve(server);
    });
  });
}

/**
 * Takes the queue in `dir` (which must exist) for this process, or throws
 * {@link QueueLockedError} naming the holder.
 */
export async function lockQueue(dir: string, command: string): Promise<QueueLock> {
  const server = await bind(await socketName(dir));
  const recorded = await readQueueHolder(dir);
  if (server === null) throw new QueueLockedError(dir, recorded !== null && holderAlive(recorded) ? recorded : null);
  if (recorded !== null && recorded.pid !== process.pid && holderAlive(recorded)) {
    // Bound here, yet a live process says it holds the queue: one in another network namespace.
    server.close();
    throw new QueueLockedError(dir, recorded);
  }
  const holder: QueueHolder = { pid: process.pid, command, since: new Date().toISOString(), start_ticks: startTicks(process.pid), boot_id: bootId() };
  // In place and padded: rewriting an existing block needs no free space, so a full disk still
  // gets the right holder in the file as long as it was created once.
  const text = `${JSON.stringify(holder)}\n`.padEnd(256, ' ');
  try {
    const fh = await openInPlace(join(dir, LOCK_FILE));
    try {
      await fh.write(text, 0, 'utf8');
      await fh.truncate(Buffer.byteLength(text));
    } finally {
      await fh.close();
    }
  } catch {
    // Best effort: the socket is the lock; the file only names the holder.
  }
  return {
    holder,
    release: async () => {
      // The file goes with the lock, if it still names this process (best effort, as above).
      const named = await readQueueHolder(dir);
      if (named?.pid === process.pid && named.since === holder.since) await unlink(join(dir, LOCK_FILE)).catch(() => undefined);
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  };
}
