/**
 * Issue 19, finding 4, on real captures (fixtures/carrier: SIPp and a forking kamailio between
 * network namespaces, truth from tshark): the legs of a B2BUA name each other through X-CID,
 * Session-ID, P-Charging-Vector icid or a configured correlation header, and a forked INVITE lists
 * its branches with the callee taken from the branch that decided the call.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { DEFAULT_PIPELINE_OPTIONS } from '@callscope/call-engine';
import { isoFromEpoch } from '@callscope/testing';
import { formatTable } from '../src/cli/table-format.js';
import { analyzeFile } from './analyze-corpus.js';

const carrier = (name: string) => new URL(`../../../fixtures/carrier/${name}`, import.meta.url).pathname;

interface BranchTruth {
  to_tag: string;
  responder_ip: string;
  responder_port: number;
  provisional: { code: number; time: number }[];
  final_code: number | null;
  final_time: number | null;
  invite_time: number | null;
  cancel_time: number | null;
}
interface CallTruth {
  call_id: string;
  callee_ip: string;
  final_sip_code: number | null;
  end_time: number;
  answer_time: number | null;
  x_cid: string | null;
  session_id: { local_uuid: string; remote_uuid: string; from: string; what: string }[];
  icid?: string | null;
  headers?: Record<string, string | null>;
  branches: BranchTruth[];
}

const truthOf = (name: string) => (JSON.parse(readFileSync(carrier(`${name}.truth.json`), 'utf8')) as { calls: CallTruth[] }).calls;
const iso = (t: number | null) => (t === null ? null : isoFromEpoch(t));
const NULL_UUID = '0'.repeat(32);

/** The branches as the truth lists them, in the record's shape (the truth has no `chosen`). */
function expectedBranches(t: CallTruth) {
  return t.branches.map((b) => ({
    to_tag: b.to_tag,
    ip: b.responder_ip,
    port: b.responder_port,
    invite: iso(b.invite_time),
    provisional: b.provisional.map((p) => ({ code: p.code, time: iso(p.time) })),
    final_code: b.final_code,
    final: iso(b.final_time),
    cancel: iso(b.cancel_time),
  }));
}

describe('forked INVITEs on real captures', () => {
  test('fork-one-answers: both branches with their tags, codes and times; the answering one is the callee', async () => {
    const [t] = truthOf('fork-one-answers');
    const { calls } = await analyzeFile(carrier('fork-one-answers.pcap'));
    expect(calls).toHaveLength(1);
    const c = calls[0]!;
    expect(c.branches.map(({ chosen: _c, ...b }) => b)).toEqual(expectedBranches(t!));
    const answered = t!.branches.find((b) => b.final_code !== null && b.final_code < 300)!;
    expect(c.branches.filter((b) => b.chosen).map((b) => b.to_tag)).toEqual([answered.to_tag]);
    expect({ callee_ip: c.callee_ip, callee_port: c.callee_port, answer: c.answer, last_sip_code: c.last_sip_code }).toEqual({
      callee_ip: answered.responder_ip,
      callee_port: answered.responder_port,
      answer: iso(t!.answer_time),
      last_sip_code: 200,
    });
    expect(c.end_reason).toBe('bye_confirmed');
  });

  const noneAnswers = existsSync(carrier('fork-none-answers.pcap'));
  test.skipIf(!noneAnswers)('fork-none-answers: the call waits for every branch and ends with the response a proxy forwards (RFC 3261 §16.7)', async () => {
    const [t] = truthOf('fork-none-answers');
    const { calls } = await analyzeFile(carrier('fork-none-answers.pcap'));
    expect(calls).toHaveLength(1);
    const c = calls[0]!;
    expect(c.branches.map(({ chosen: _c, ...b }) => b)).toEqual(expectedBranches(t!));
    // 6xx beats every other class: the 603 branch decides, although the 486 came first.
    const decisive = t!.branches.find((b) => b.final_code !== null && b.final_code >= 600) ?? t!.branches[0]!;
    expect(c.branches.filter((b) => b.chosen).map((b) => b.to_tag)).toEqual([decisive.to_tag]);
    expect({ end_reason: c.end_reason, last_sip_code: c.last_sip_code, callee_ip: c.callee_ip, answer: c.answer }).toEqual({
      end_reason: 'rejected',
      last_sip_code: decisive.final_code,
      callee_ip: decisive.responder_ip,
      answer: null,
    });
    // The outcome is known when the last branch has answered.
    const lastFinal = Math.max(...t!.branches.map((b) => b.final_time ?? 0));
    expect(c.end).toBe(isoFromEpoch(lastFinal));
  });

  test('a call that did not fork lists no branches (corpus-like captures)', async () => {
    const { calls } = await analyzeFile(carrier('bye-481.pcap'));
    expect(calls.map((c) => c.branches)).toEqual([[]]);
  });
});

describe('linked legs on real captures', () => {
  test('b2bua-x-cid: leg B names leg A by X-CID, both carry the RFC 7989 UUIDs, each record names the other', async () => {
    const truth = truthOf('b2bua-x-cid');
    const { calls } = await analyzeFile(carrier('b2bua-x-cid.pcap'));
    expect(calls.map((c) => c.call_id).sort()).toEqual(truth.map((t) => t.call_id).sort());
    for (const t of truth) {
      const c = calls.find((x) => x.call_id === t.call_id)!;
      const other = calls.find((x) => x !== c)!;
      expect(c.x_cid).toBe(t.x_cid);
      // The caller side's own UUID comes from the INVITE; the callee side's from its responses.
      const invite = t.session_id.find((s) => s.what === 'INVITE')!;
      const answer = t.session_id.find((s) => s.what !== 'INVITE' && s.local_uuid !== NULL_UUID)!;
      expect(c.session_id).toEqual({ local_uuid: invite.local_uuid, remote_uuid: answer.local_uuid });
      expect(c.linked_legs).toEqual([{ call_id: other.call_id, start: other.start, by: 'x_cid', header: null }]);
      expect(c.icid).toBeNull();
      expect(c.correlation).toEqual({});
    }
  });

  const icidCapture = existsSync(carrier('b2bua-icid.pcap'));
  test.skipIf(!icidCapture)('b2bua-icid: legs linked by the P-Charging-Vector icid and, when configured, a carrier header', async () => {
    const truth = truthOf('b2bua-icid');
    const header = Object.keys(truth[0]!.headers ?? {})[0] ?? 'X-Correlation-ID';
    const plain = await analyzeFile(carrier('b2bua-icid.pcap'));
    const configured = await analyzeFile(carrier('b2bua-icid.pcap'), {
      ...DEFAULT_PIPELINE_OPTIONS,
      calls: { ...DEFAULT_PIPELINE_OPTIONS.calls, correlationHeaders: [header.toLowerCase()] },
    });
    for (const t of truth) {
      const c = plain.calls.find((x) => x.call_id === t.call_id)!;
      const other = plain.calls.find((x) => x !== c)!;
      expect({ icid: c.icid, x_cid: c.x_cid, session_id: c.session_id, correlation: c.correlation }).toEqual({ icid: t.icid, x_cid: null, session_id: null, correlation: {} });
      expect(c.linked_legs).toEqual([{ call_id: other.call_id, start: other.start, by: 'icid', header: null }]);
      // Configured (in any case): the value is kept under the configured name.
      const k = configured.calls.find((x) => x.call_id === t.call_id)!;
      expect(k.correlation).toEqual({ [header.toLowerCase()]: t.headers![header] });
    }
  });
});

describe('--format table names forks and linked legs', () => {
  test('fork-one-answers and b2bua-x-cid', async () => {
    const fork = await analyzeFile(carrier('fork-one-answers.pcap'));
    const legs = await analyzeFile(carrier('b2bua-x-cid.pcap'));
    const text = formatTable([...fork.calls, ...legs.calls], []);
    expect(text).toContain('fork 2 branches: 198.51.100.20:5060 200 (chosen), 198.51.100.21:5060 487');
    for (const c of legs.calls) expect(text).toContain(`leg ${c.call_id} (x_cid)`);
  });
});
