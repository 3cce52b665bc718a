/**
 * One problem found while loading a service's configuration.
 *
 * `source` names where the offending value came from so an operator knows which knob to turn:
 * `file /etc/callscope/sniffer.json`, `env CALLSCOPE_SNIFFER_SPOOL_MAX_SIZE_GB`, `defaults`,
 * or `command line`.
 */
export interface ConfigIssue {
  /** Where the value came from (file path, environment variable, defaults, command line). */
  readonly source: string;
  /** Dotted JSON path of the value (`spool.maxSizeGb`, `sensors[0].token`); empty for the root. */
  readonly path: string;
  /** What was wrong and what was expected, in words. */
  readonly message: string;
}

/**
 * Thrown by {@link loadConfig} (and the apps' `loadXConfig`) when the configuration cannot be
 * used. The message lists every issue, one per line, so a service refuses to start with a
 * complete list instead of one error per restart.
 */
export class ConfigError extends Error {
  /** Every problem found, in the order ajv (or the source readers) reported them. */
  readonly issues: readonly ConfigIssue[];
  /** Name of the app whose configuration failed (`sniffer`, `manager-api`, ...). */
  readonly app: string;

  constructor(app: string, issues: readonly ConfigIssue[]) {
    super(formatIssues(app, issues));
    this.name = 'ConfigError';
    this.app = app;
    this.issues = issues;
  }
}

function formatIssues(app: string, issues: readonly ConfigIssue[]): string {
  const lines = issues.map((issue) => {
    const where = issue.path === '' ? '' : `${issue.path}: `;
    return `  - ${where}${issue.message} (from ${issue.source})`;
  });
  const noun = issues.length === 1 ? 'problem' : 'problems';
  return `invalid ${app} configuration, ${issues.length} ${noun}:\n${lines.join('\n')}`;
}
