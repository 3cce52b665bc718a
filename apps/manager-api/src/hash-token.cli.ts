import { hashToken, MAX_TOKEN_LENGTH } from './token-hash.js';

/** Shortest token accepted: 16 characters of a random token is ~96 bits. */
const MIN_TOKEN_LENGTH = 16;

/**
 * `manager-api hash-token`: reads one token on stdin (trailing newline dropped) and prints the
 * `hash` to store in `tokens: [{"name", "hash"}]`. The token never appears on the command line,
 * so it stays out of shell history and `ps`.
 *
 * @returns the exit code: 0 printed, 2 no usable token on stdin
 */
export async function runHashToken(stdin: AsyncIterable<Buffer | string>, stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream): Promise<number> {
  let text = '';
  for await (const chunk of stdin) {
    text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    if (text.length > MAX_TOKEN_LENGTH * 2) break;
  }
  const token = text.replace(/\r?\n$/, '');
  if (token.length < MIN_TOKEN_LENGTH || token.length > MAX_TOKEN_LENGTH || !/^[A-Za-z0-9\-._~+/]+=*$/.test(token)) {
    stderr.write(
      `manager-api hash-token: give one token on stdin, ${MIN_TOKEN_LENGTH} to ${MAX_TOKEN_LENGTH} characters of A-Z a-z 0-9 - . _ ~ + / (RFC 6750 b64token), e.g.\n` +
        '  openssl rand -base64 24 | tee token.txt | npm run --silent manager-api -- hash-token\n',
    );
    return 2;
  }
  stdout.write(`${hashToken(token)}\n`);
  return 0;
}
