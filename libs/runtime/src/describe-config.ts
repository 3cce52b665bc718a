import { listConfigLeaves, SECRET_KEYWORD } from './config-schema.js';
import { configFileEnvName, SHARED_DB_URL_ENV } from './env-names.js';

function typeText(types: string | readonly string[] | undefined, nullable: boolean, items: string | undefined): string {
  const list = typeof types === 'string' ? [types] : [...(types ?? ['any'])];
  const text = list.map((t) => (t === 'array' ? `list of ${items ?? 'any'}` : t)).join(' | ');
  return nullable ? `${text} | null` : text;
}

/**
 * Renders the settings of an app for `--help`: one block per leaf with its JSON path, the
 * `CALLSCOPE_<APP>_*` variable, its type, default (never for secrets) and description.
 */
export function describeConfig(app: string, schema: object): string {
  const lines = [
    `Configuration of ${app}, in increasing precedence: built-in defaults < JSON file`,
    `(--config <file> or ${configFileEnvName(app)}) < environment variables.`,
    `Lists are comma-separated in the environment; an empty value sets a nullable option to null.`,
    '',
  ];
  for (const leaf of listConfigLeaves(app, schema)) {
    const node = leaf.schema;
    const items = typeof node.items?.type === 'string' ? node.items.type : node.items === undefined ? undefined : 'object';
    let line = `  ${leaf.path.join('.')}  ${typeText(node.type, node.nullable === true, items)}`;
    if (node.enum !== undefined) line += ` (${node.enum.map((v) => JSON.stringify(v)).join('|')})`;
    if (node[SECRET_KEYWORD] === true) line += ', secret';
    else if ('default' in node) line += `, default ${JSON.stringify(node.default)}`;
    lines.push(line);
    const isDbUrl = leaf.path.slice(-2).join('.') === 'db.url';
    lines.push(`      env ${leaf.envName}${isDbUrl ? ` (or ${SHARED_DB_URL_ENV})` : ''}`);
    if (node.description !== undefined) lines.push(`      ${node.description}`);
  }
  return lines.join('\n');
}
