/**
 * callscope mirror-sender: captures packets on a PBX/SBC host (or reads capture files) and streams
 * them to a sniffer's mirror receiver. See sender.cli.ts for the command line and exit codes.
 */
import { runSender } from './sender.cli.js';

runSender(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, signals: process }).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`mirror-sender: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
