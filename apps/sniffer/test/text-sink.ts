import { Writable } from 'node:stream';

/** A writable that keeps what it was given: a command's stdout or stderr in in-process tests. */
export class TextSink extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}
