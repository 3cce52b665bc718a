import { isIP } from 'node:net';

/**
 * True when a listen host only accepts connections from this machine (`localhost`, 127.0.0.0/8,
 * `::1`): services may run without a token there, never on a routable address.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (h.toLowerCase() === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1' || /^::ffff:127\./i.test(h);
  return false;
}
