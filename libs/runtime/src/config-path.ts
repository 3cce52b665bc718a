/**
 * Formats a JSON pointer (RFC 6901, as ajv reports `instancePath`) the way operators write config
 * paths: `/sensors/0/token` -> `sensors[0].token`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6901
 */
export function pointerToDotted(pointer: string): string {
  if (pointer === '') return '';
  let out = '';
  for (const raw of pointer.slice(1).split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(segment)) out += `[${segment}]`;
    else out += out === '' ? segment : `.${segment}`;
  }
  return out;
}

/** Builds a JSON pointer from path segments (`['sensors', 0, 'token']` -> `/sensors/0/token`). */
export function segmentsToPointer(segments: readonly (string | number)[]): string {
  return segments.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}
