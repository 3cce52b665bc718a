/** Sniffer release, reported by `sniffer stats`, the heartbeat and the logs; a test keeps it equal to package.json. */
export const SNIFFER_VERSION = '0.1.0';
