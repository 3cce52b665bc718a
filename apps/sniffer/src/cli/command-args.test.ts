import { describe, expect, it } from 'vitest';
import { parseAnalyzeArgs } from './analyze-args.js';
import { UsageError, lastOfPair, parseCommandArgs, stringListOption, stringOption, wantsHelp, type OptionSpecs } from './command-args.js';
import { parseLiveArgs } from './live.cli.js';
import { parsePcapArgs } from './pcap.cli.js';

const SPECS: OptionSpecs = {
  spool: { type: 'string' },
  filter: { type: 'string', allowEmpty: true },
  interface: { type: 'string', short: 'i', multiple: true },
  sip: { type: 'boolean' },
  progress: { type: 'boolean' },
  'no-progress': { type: 'boolean' },
};

function usageError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof UsageError) return err.message;
    throw err;
  }
  throw new Error('expected a UsageError');
}

describe('parseCommandArgs', () => {
  it('takes --name=value and --name value alike, -i value, repeated options in order', () => {
    const a = parseCommandArgs('t', ['--spool=/a', '-i', 'eth0', '--interface=eth1', '-ieth2', 'file'], SPECS, true);
    const b = parseCommandArgs('t', ['--spool', '/a', 'file'], SPECS, true);
    expect([stringOption(a, 'spool'), stringOption(b, 'spool')]).toEqual(['/a', '/a']);
    expect(stringListOption(a, 'interface')).toEqual(['eth0', 'eth1', 'eth2']);
    expect(a.positionals).toEqual(['file']);
  });

  it.each([
    [['--spool'], '--spool needs a value'],
    [['--spool', '--sip'], '--spool needs a value, got the option "--sip" (write --spool=--sip for a value starting with a dash)'],
    [['-i'], '-i/--interface needs a value'],
    [['-i', '-x'], '-i/--interface needs a value, got the option "-x" (write --interface=-x for a value starting with a dash)'],
    [['--spool='], '--spool needs a non-empty value'],
    [['--sip=yes'], '--sip takes no value (got "yes")'],
    [['--bogus'], 'unknown option --bogus'],
    [['-z'], 'unknown option -z'],
  ])('%j is a usage error: %s', (argv, message) => {
    expect(usageError(() => parseCommandArgs('t', argv, SPECS, true))).toBe(message);
  });

  it('a value may start with a dash when written --name=-value; --filter= may be empty', () => {
    const a = parseCommandArgs('t', ['--spool=-odd', '--filter='], SPECS, false);
    expect([stringOption(a, 'spool'), stringOption(a, 'filter')]).toEqual(['-odd', '']);
  });

  it('refuses positionals where a command takes none, and takes them after -- where it does', () => {
    expect(usageError(() => parseCommandArgs('pcap', ['x'], SPECS, false))).toBe('unexpected argument "x" (pcap takes no file names)');
    expect(parseCommandArgs('t', ['--', '--sip'], SPECS, true).positionals).toEqual(['--sip']);
  });

  it('the later of a flag pair wins; --help wins before --', () => {
    expect(lastOfPair(parseCommandArgs('t', ['--progress', '--no-progress'], SPECS, false), 'progress', 'no-progress')).toBe(false);
    expect(lastOfPair(parseCommandArgs('t', ['--no-progress', '--progress'], SPECS, false), 'progress', 'no-progress')).toBe(true);
    expect(lastOfPair(parseCommandArgs('t', [], SPECS, false), 'progress', 'no-progress')).toBeNull();
    expect([wantsHelp(['--bogus', '-h']), wantsHelp(['--', '--help'])]).toEqual([true, false]);
  });
});

describe('command parsers keep every flag', () => {
  it('analyze', () => {
    expect(parseAnalyzeArgs(['a.pcap', '--format=table', '--db', 'mysql://x@y/z', '--spool=/s', '--spool-retention', '--sensor=s1', '--config', 'c.json', '--no-progress', 'b.pcap', '--stats', 's.json', '--queue-dir=/q', '--db-wait', '2.5'])).toEqual({
      files: ['a.pcap', 'b.pcap'], format: 'table', db: 'mysql://x@y/z', noDb: false, spool: '/s', noSpool: false, spoolRetention: true, progress: false, config: 'c.json', sensor: 's1',
      stats: 's.json', queueDir: '/q', dbWaitS: 2.5,
    });
    expect(usageError(() => parseAnalyzeArgs(['a.pcap', '--db-wait=soon']))).toBe('--db-wait must be a number of seconds, not "soon"');
    expect(usageError(() => parseAnalyzeArgs(['--format', 'xml', 'a.pcap']))).toBe('--format must be jsonl or table, not "xml"');
    expect(usageError(() => parseAnalyzeArgs(['--format=table']))).toBe('no capture file given');
    expect(usageError(() => parseAnalyzeArgs(['a.pcap', '--db=mysql://x@y/z', '--no-db']))).toBe('--db and --no-db contradict each other');
  });

  it('live', () => {
    expect(parseLiveArgs(['-i', 'eth0', '--interface=eth1', '--filter=udp', '--db=mysql://x@y/z', '--spool', '/s', '--sensor=s', '--config=c', '--duration=2.5', '--quiet', '--queue-dir', '/q'])).toEqual({
      interfaces: ['eth0', 'eth1'], filter: 'udp', db: 'mysql://x@y/z', noDb: false, spool: '/s', noSpool: false, sensor: 's', config: 'c', durationS: 2.5, quiet: true, queueDir: '/q',
    });
    expect(usageError(() => parseLiveArgs(['--duration=0']))).toBe('--duration must be a positive number of seconds, not "0"');
    expect(usageError(() => parseLiveArgs(['--duration', 'soon']))).toBe('--duration must be a positive number of seconds, not "soon"');
  });

  it('pcap', () => {
    expect(parsePcapArgs(['--call-id=a@b', '--start', '2026-11-29T18:11:32.745046Z', '--spool=/s', '--sip', '--config', 'c'])).toEqual({
      callId: 'a@b', start: '2026-11-29T18:11:32.745046Z', when: { sec: Date.parse('2026-11-29T18:11:32Z') / 1000, usec: 745046 }, spool: '/s', config: 'c', kinds: ['sip'], sensor: null,
    });
    expect(parsePcapArgs(['--call-id=a@b', '--start', '2026-11-29T18:11:32.745046Z', '--sensor', 'pbx-a']).sensor).toBe('pbx-a');
    expect(usageError(() => parsePcapArgs(['--start=2026-11-29T18:11:32.745046Z']))).toBe('--call-id is required');
    expect(usageError(() => parsePcapArgs(['--call-id=x', '--start=yesterday']))).toBe('--start must be an ISO UTC time like 2026-11-29T17:00:00.123456Z');
  });
});
