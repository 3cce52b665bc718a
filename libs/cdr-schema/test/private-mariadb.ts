// A throw-away MariaDB server for tests that must kill the database: its own datadir, socket and
// port, started and SIGKILLed at will. Fails loudly when MariaDB is not installed.
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import { tempDir } from './helpers.js';

const MARIADBD = '/usr/sbin/mariadbd';

function findInstallDb(): string {
  for (const p of ['/usr/bin/mariadb-install-db', '/usr/local/bin/mariadb-install-db', '/usr/scripts/mariadb-install-db']) {
    if (existsSync(p)) return p;
  }
  throw new Error('mariadb-install-db not found: the outage test needs a local MariaDB server package (apt-get install mariadb-server)');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => {
        if (typeof addr === 'object' && addr !== null) resolve(addr.port);
        else reject(new Error('no port'));
      });
    });
  });
}

export class PrivateMariaDb {
  readonly dir: string;
  readonly port: number;
  private child: ChildProcess | null = null;

  private constructor(dir: string, port: number) {
    this.dir = dir;
    this.port = port;
  }

  /** Initialises a datadir and starts the server. */
  static async create(): Promise<PrivateMariaDb> {
    if (!existsSync(MARIADBD)) {
      throw new Error(`${MARIADBD} not found: the outage test needs a local MariaDB server (apt-get install mariadb-server)`);
    }
    const dir = tempDir('mariadbd');
    execFileSync(
      findInstallDb(),
      ['--no-defaults', `--datadir=${join(dir, 'data')}`, '--user=root', '--auth-root-authentication-method=normal', '--skip-test-db'],
      { stdio: 'ignore' },
    );
    const db = new PrivateMariaDb(dir, await freePort());
    await db.start();
    return db;
  }

  /** `mysql://root@127.0.0.1:<port>/<db>` */
  url(database = ''): string {
    return `mysql://root@127.0.0.1:${this.port}/${database}`;
  }

  async start(): Promise<void> {
    this.child = spawn(
      MARIADBD,
      [
        '--no-defaults',
        `--datadir=${join(this.dir, 'data')}`,
        `--socket=${join(this.dir, 'sock')}`,
        `--port=${this.port}`,
        '--bind-address=127.0.0.1',
        '--user=root',
        '--skip-log-bin',
        '--innodb-buffer-pool-size=64M',
        `--log-error=${join(this.dir, 'error.log')}`,
        `--pid-file=${join(this.dir, 'pid')}`,
      ],
      { stdio: 'ignore' },
    );
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const conn = await createConnection({ uri: this.url(), connectTimeout: 500 });
        await conn.end();
        return;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`private mariadbd did not start: ${String(err)} (see ${this.dir}/error.log)`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** SIGKILL: no shutdown, no flush; InnoDB must recover on the next start. */
  async kill(): Promise<void> {
    const child = this.child;
    if (child === null) return;
    this.child = null;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** SIGSTOP: the server keeps its sockets open but answers nothing (a hung database). */
  freeze(): void {
    this.child?.kill('SIGSTOP');
  }

  /** SIGCONT after {@link PrivateMariaDb.freeze}. */
  thaw(): void {
    this.child?.kill('SIGCONT');
  }

  async destroy(): Promise<void> {
    this.thaw();
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
