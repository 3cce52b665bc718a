/** A parsed `host:port` listen or target address. */
export interface HostPort {
  /** Host name or IP address; IPv6 without the brackets. */
  readonly host: string;
  /** TCP/UDP port, 1..65535. */
  readonly port: number;
}

/**
 * JSON Schema `pattern` for a `host:port` string (`0.0.0.0:5030`, `sensor1:5030`, `[::]:5030`),
 * used by the app schemas; {@link parseHostPort} then checks the port range.
 */
export const HOST_PORT_PATTERN = '^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9_.-]+):[0-9]{1,5}$';

const HOST_PORT = new RegExp(HOST_PORT_PATTERN);

/**
 * Parses `host:port` (IPv6 in brackets, RFC 3986 §3.2.2), or returns null when the text is not
 * one or the port is outside 1..65535.
 *
 * @see https://www.rfc-editor.org/rfc/rfc3986#section-3.2.2
 */
export function parseHostPort(text: string): HostPort | null {
  if (!HOST_PORT.test(text)) return null;
  const colon = text.lastIndexOf(':');
  const port = Number(text.slice(colon + 1));
  if (port < 1 || port > 65535) return null;
  const rawHost = text.slice(0, colon);
  const host = rawHost.startsWith('[') ? rawHost.slice(1, -1) : rawHost;
  return { host, port };
}
