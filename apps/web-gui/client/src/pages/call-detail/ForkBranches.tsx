import type { BranchRecord } from '@callscope/cdr-model';
import { branchRows } from './call-legs.ts';

/**
 * The branches of a forked INVITE (RFC 3261 §16.7): one row per To-tag (or per destination that
 * never answered with one), with its address, the INVITE, each provisional response and the final
 * response with their times since the call's start, the CANCEL sent to it, and the branch that
 * decided the call marked (its callee fields are the header's).
 */
export function ForkBranches(props: { start: string; branches: readonly BranchRecord[] }) {
  const rows = branchRows(props.start, props.branches);
  return (
    <div class="st-wrap">
      <table class="st fb">
        <thead>
          <tr>
            <th title="the branch that answered, or whose final response decided the call">chosen</th>
            <th>To-tag</th>
            <th>address</th>
            <th class="num" title="INVITE sent to the branch, since the call's start">INVITE</th>
            <th title="provisional responses with a tag, since the call's start">provisional</th>
            <th title="final response, since the call's start">final</th>
            <th class="num" title="CANCEL sent to the branch, since the call's start">CANCEL</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((b, i) => (
            <tr key={i} class={b.chosen ? 'fb-chosen' : undefined}>
              <td>{b.chosen ? <b title="this branch decided the call">✓ chosen</b> : ''}</td>
              <td class="mono">{b.toTag}</td>
              <td class="mono st-addr">{b.address}</td>
              <td class="num">{b.invite}</td>
              <td>{b.provisional.length === 0 ? '–' : b.provisional.join(', ')}</td>
              <td class={b.finalClass === 'ok' ? 'cd-code-ok' : b.finalClass === 'fail' ? 'cd-code-bad' : ''}>{b.final}</td>
              <td class="num">{b.cancel}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
