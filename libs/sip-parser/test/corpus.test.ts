import { describe, expect, it } from 'vitest';
import { readTruth, type TruthSdp } from '@callscope/testing';
import {
  SIP_METHOD_NAMES, SdpDirection, SdpStatus, SessionDescription, SipMessage, SipMessageKind, SipStatus, parseSdp,
  parseSipMessage,
} from '../src/index.js';
import type { ByteRange } from '../src/index.js';
import { hexToBytes, loadCaptureFixtures } from './corpus-fixtures.js';

const fixtures = loadCaptureFixtures();
const unquote = (s: string): string => (s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s);

describe('every SIP message of every corpus capture agrees with tshark 4.0', () => {
  it('has fixtures for all 23 captures', () => {
    expect(fixtures.length).toBe(23);
    expect(fixtures.reduce((n, f) => n + f.messages.length, 0)).toBeGreaterThan(1300);
  });

  for (const fx of fixtures) {
    it(fx.capture, () => {
      const msg = new SipMessage();
      const sdp = new SessionDescription();
      for (const m of fx.messages) {
        const bytes = hexToBytes(m.payload);
        const t = m.tshark;
        const where = `${fx.capture} frame ${m.frame}`;
        const status = parseSipMessage(bytes, 0, bytes.length, msg);
        expect(status, where).toBe(SipStatus.Ok);
        const first = (name: string): string | undefined => t[name]?.[0];
        const same = (name: string, range: ByteRange, map: (s: string) => string = (s) => s): void => {
          const expected = first(name);
          if (expected === undefined) expect(range.present, `${where} ${name} absent`).toBe(false);
          else expect(msg.text(range), `${where} ${name}`).toBe(map(expected));
        };
        if (t['sip.Method']) {
          expect(msg.kind).toBe(SipMessageKind.Request);
          expect(SIP_METHOD_NAMES[msg.method], where).toBe(first('sip.Method'));
          same('sip.r-uri', msg.requestUri.uri);
          same('sip.r-uri.user', msg.requestUri.user);
          same('sip.r-uri.host', msg.requestUri.host);
        } else {
          expect(msg.kind).toBe(SipMessageKind.Response);
          expect(String(msg.statusCode), where).toBe(first('sip.Status-Code'));
          expect(`SIP/2.0 ${msg.statusCode} ${msg.text(msg.reasonPhrase)}`).toBe(first('sip.Status-Line'));
        }
        same('sip.Call-ID', msg.callId);
        same('sip.from.user', msg.from.uri.user);
        same('sip.from.host', msg.from.uri.host);
        same('sip.from.tag', msg.from.tag);
        same('sip.from.display.info', msg.from.displayName, unquote);
        same('sip.to.user', msg.to.uri.user);
        same('sip.to.host', msg.to.uri.host);
        same('sip.to.tag', msg.to.tag);
        expect(String(msg.cseq), where).toBe(first('sip.CSeq.seq'));
        expect(msg.text(msg.cseqMethodText)).toBe(first('sip.CSeq.method'));
        expect(SIP_METHOD_NAMES[msg.cseqMethod]).toBe(first('sip.CSeq.method'));
        expect(msg.via.count, where).toBe(t['sip.Via']?.length);
        same('sip.Via', msg.via.value);
        same('sip.Via.transport', msg.via.transport);
        // We keep the IPv6 reference's brackets as in the grammar (RFC 3261 §25.1 sent-by = host); tshark strips them.
        same('sip.Via.sent-by.address', msg.via.host, (s) => (s.includes(':') ? `[${s}]` : s));
        expect(msg.via.port === -1 ? undefined : String(msg.via.port)).toBe(first('sip.Via.sent-by.port'));
        same('sip.Via.branch', msg.via.branch);
        same('sip.Via.received', msg.via.received);
        same('sip.contact.uri', msg.contact.uri.uri);
        same('sip.Contact', msg.contact.value);
        expect(msg.contactCount).toBe(t['sip.Contact']?.length ?? 0);
        expect(msg.expires === -1 ? undefined : String(msg.expires)).toBe(first('sip.Expires'));
        expect(msg.contentLength === -1 ? undefined : String(msg.contentLength)).toBe(first('sip.Content-Length'));
        same('sip.Content-Type', msg.contentType);
        expect(msg.maxForwards === -1 ? undefined : String(msg.maxForwards)).toBe(first('sip.Max-Forwards'));
        same('sip.User-Agent', msg.userAgent);
        same('sip.Server', msg.server);
        same('sip.Authorization', msg.authorization.value);
        same('sip.auth.username', msg.authorization.username, unquote);
        expect(msg.wwwAuthenticate).toBe(t['sip.WWW-Authenticate'] !== undefined);
        expect(msg.proxyAuthenticate).toBe(t['sip.Proxy-Authenticate'] !== undefined);
        same('sip.pai.user', msg.pAssertedIdentity.uri.user);
        same('sip.pai.host', msg.pAssertedIdentity.uri.host);
        // The whole message was used: tshark's payload is exactly headers + Content-Length body.
        expect(msg.offset + msg.length, where).toBe(bytes.length);
        expect(msg.trailingBytes).toBe(0);

        if (t['sdp.media.port']) {
          const sdpStatus = parseSdp(bytes, msg.body.offset, msg.body.length, sdp);
          expect(sdpStatus, where).toBe(SdpStatus.Ok);
          expect(sdp.text(sdp.originUsername)).toBe(first('sdp.owner.username'));
          expect(sdp.text(sdp.sessionId)).toBe(first('sdp.owner.sessionid'));
          expect(sdp.text(sdp.sessionVersion)).toBe(first('sdp.owner.version'));
          expect(sdp.text(sdp.originAddress.address)).toBe(first('sdp.owner.address'));
          const connections = [sdp.connection, ...sdp.media.slice(0, sdp.mediaCount).map((md) => md.connection)];
          // tshark lists each c= line once; ours copies the session one into media without their own.
          expect(sdp.text(connections.find((c) => c.present)!.address)).toBe(first('sdp.connection_info.address'));
          const ports = sdp.media.slice(0, sdp.mediaCount).map((md) => String(md.port));
          expect(ports, where).toEqual(t['sdp.media.port']);
          expect(sdp.media.slice(0, sdp.mediaCount).map((md) => sdp.text(md.proto))).toEqual(t['sdp.media.proto']);
          const encodings = sdp.media.slice(0, sdp.mediaCount).flatMap((md) =>
            md.rtpmaps.slice(0, md.rtpmapCount).filter((r) => r.encoding.present).map((r) => sdp.text(r.encoding)));
          expect(encodings).toEqual(t['sdp.mime.type'] ?? []);
          const rates = sdp.media.slice(0, sdp.mediaCount).flatMap((md) =>
            md.rtpmaps.slice(0, md.rtpmapCount).filter((r) => r.encoding.present).map((r) => String(r.clockRate)));
          expect(rates).toEqual(t['sdp.sample_rate'] ?? []);
          // Formats as tshark lists the numeric ones (after its descriptive names).
          const formats = sdp.media.slice(0, sdp.mediaCount).flatMap((md) => Array.from(md.payloadTypes.subarray(0, md.payloadTypeCount), String));
          for (const f of formats) expect(t['sdp.media.format']).toContain(f);
        } else {
          expect(msg.contentType.present && msg.body.length > 0 && msg.text(msg.contentType) === 'application/sdp').toBe(false);
        }
      }
    });
  }
});

// Second oracle: the corpus truth files list every SDP body of every call (address, ports,
// direction attribute) as computed from tshark's dissection by the corpus tooling.
/** The truth fields this parser's output is compared on. */
type SdpSummary = Pick<TruthSdp, 'ip' | 'ports' | 'direction' | 'cseq'>;

const DIRECTIONS: Record<number, string> = {
  [SdpDirection.SendRecv]: 'sendrecv',
  [SdpDirection.SendOnly]: 'sendonly',
  [SdpDirection.RecvOnly]: 'recvonly',
  [SdpDirection.Inactive]: 'inactive',
};

describe('SDP of every call agrees with the corpus truth files', () => {
  for (const fx of fixtures) {
    it(fx.capture, () => {
      const truth = readTruth(fx.capture);
      const msg = new SipMessage();
      const sdp = new SessionDescription();
      const ours = new Map<string, SdpSummary[]>();
      for (const m of fx.messages) {
        const b = hexToBytes(m.payload);
        expect(parseSipMessage(b, 0, b.length, msg)).toBe(SipStatus.Ok);
        if (msg.body.length === 0 || msg.text(msg.contentType) !== 'application/sdp') continue;
        expect(parseSdp(b, msg.body.offset, msg.body.length, sdp)).toBe(SdpStatus.Ok);
        const first = sdp.media[0]!;
        const list = ours.get(msg.text(msg.callId)) ?? [];
        list.push({
          ip: sdp.text(first.connection.address),
          ports: sdp.media.slice(0, sdp.mediaCount).map((x) => x.port),
          // Effective direction of the first stream (media attribute, else session, else sendrecv).
          direction: DIRECTIONS[first.direction]!,
          cseq: msg.cseq,
        });
        ours.set(msg.text(msg.callId), list);
      }
      let compared = 0;
      for (const call of truth.calls) {
        const got = ours.get(call.call_id) ?? [];
        expect(got.length, call.call_id).toBe(call.sdp.length);
        call.sdp.forEach((t, i) => {
          expect(got[i]!.ip).toBe(t.ip);
          expect(got[i]!.ports).toEqual(t.ports);
          expect(got[i]!.direction).toBe(t.direction);
          expect(got[i]!.cseq).toBe(t.cseq);
          compared++;
        });
      }
      const expectedCount = truth.calls.reduce((n, c) => n + c.sdp.length, 0);
      expect(compared).toBe(expectedCount);
    });
  }
});
