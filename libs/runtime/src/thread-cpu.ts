import { readFileSync } from 'node:fs';

/**
 * Clock ticks per second of the CPU times in `/proc/.../stat` (USER_HZ): 100 on every Linux
 * architecture Node runs on (x86, arm64, ppc64, s390x), whatever the kernel's own tick rate.
 */
const USER_HZ = 100;

/**
 * CPU seconds (user + system) of one task from the text of a Linux `/proc/<pid>/task/<tid>/stat`
 * (or `/proc/thread-self/stat`): fields 14 and 15, counted after the command name, which is in
 * parentheses and may itself hold spaces and parentheses. Null when the text is not such a line.
 *
 * @see https://man7.org/linux/man-pages/man5/proc_pid_stat.5.html
 */
export function parseTaskCpuSeconds(stat: string): number | null {
  const close = stat.lastIndexOf(')');
  if (close < 0 || stat.indexOf('(') < 0 || stat.indexOf('(') > close) return null;
  // After ") ": state (field 3), then ppid... utime is field 14, stime field 15.
  const fields = stat.slice(close + 1).trim().split(/\s+/);
  if (fields.length < 13) return null;
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isSafeInteger(utime) || !Number.isSafeInteger(stime) || utime < 0 || stime < 0) return null;
  return (utime + stime) / USER_HZ;
}

/**
 * CPU seconds the calling thread has used so far (user + system, 10 ms resolution), or null where
 * the system does not say (not Linux, no /proc). Why per thread: `process.cpuUsage()` sums every
 * thread of the process, so it cannot tell a sensor's packet thread (which must keep up with the
 * wire) from its spool writer, its database client's I/O or the garbage collector's helpers.
 * Reads one small procfs file: for reports and status lines, not per packet.
 */
export function threadCpuSeconds(): number | null {
  try {
    return parseTaskCpuSeconds(readFileSync('/proc/thread-self/stat', 'latin1'));
  } catch {
    return null;
  }
}
