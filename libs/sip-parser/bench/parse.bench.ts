// Messages/s for the hot path: `npx vitest bench --run` in libs/sip-parser (or `npm run bench`).
import { bench, describe } from 'vitest';
import { SessionDescription, SipMessage, SipTcpReassembler, parseSdp, parseSipMessage } from '../src/index.js';
import { hexToBytes, loadCaptureFixtures } from '../test/corpus-fixtures.js';

const fx = loadCaptureFixtures().find((f) => f.capture === 'basic-caller-bye-pcma.pcap')!;
const invite = hexToBytes(fx.messages.find((m) => m.tshark['sip.Method']?.[0] === 'INVITE')!.payload);
const ok = hexToBytes(fx.messages.find((m) => m.tshark['sip.Status-Code']?.[0] === '200' && m.tshark['sip.CSeq.method']?.[0] === 'INVITE')!.payload);
const msg = new SipMessage();
const sdp = new SessionDescription();

describe('parseSipMessage', () => {
  bench(`INVITE with SDP (${invite.length} B), SIP + SDP`, () => {
    parseSipMessage(invite, 0, invite.length, msg);
    parseSdp(invite, msg.body.offset, msg.body.length, sdp);
  });
  bench(`INVITE with SDP (${invite.length} B), SIP only`, () => {
    parseSipMessage(invite, 0, invite.length, msg);
  });
  bench(`200 OK (${ok.length} B)`, () => {
    parseSipMessage(ok, 0, ok.length, msg);
  });
});

describe('SipTcpReassembler', () => {
  const r = new SipTcpReassembler<number>(() => undefined);
  let seq = 1;
  r.push(1, 0, 0, 1, invite, 0, 0);
  bench('INVITE in two segments', () => {
    r.push(1, 0, seq, 0, invite, 0, 300);
    r.push(1, 0, seq + 300, 0, invite, 300, invite.length - 300);
    seq = (seq + invite.length) >>> 0;
  });
});
