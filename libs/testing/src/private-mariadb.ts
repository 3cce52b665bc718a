/**
 * A throw-away MariaDB server for tests that must stop, kill or freeze the database: its own
 * datadir, socket and port under a temporary directory, started and stopped at will. Fails loudly
 * when MariaDB is not installed (a test that needs it must not pass without it).
 *
 * ```ts
 * const server = await PrivateMariaDb.create();
 * await server.kill();            // SIGKILL: InnoDB recovers on the next start
 * await server.start();
 * const rows = await server.query('SELECT COUNT(*) n FROM cdr', 'mydb');
 * await server.destroy();         // in afterAll
 * ```
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import type { RowDataPacket } from 'mysql2/promise';

const MARIADBD = '/usr/sbin/mariadbd';
/** How long a start may take before it fails (InnoDB crash recovery included), ms. */
const START_TIMEOUT_MS = 30_000;
/** How long a clean shutdown may take before the server is SIGKILLed and the stop fails, ms. */
const STOP_TIMEOUT_MS = 30_000;

function findInstallDb(): string {
  for (const p of ['/usr/bin/mariadb-install-db', '/usr/local/bin/mariadb-install-db', '/usr/scripts/mariadb-install-db']) {
    if (existsSync(p)) return p;
  }
  throw new Error('mariadb-install-db not found: a private MariaDB needs a local MariaDB server package (apt-get install mariadb-server)');
}

/** A TCP port nobody listens on right now, on 127.0.0.1. */
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

/** `name` quoted as a MariaDB identifier; throws on a name tests have no reason to use. */
function quoteIdentifier(name: string): string {
  if (!/^[A-Za-z0-9_]{1,64}$/.test(name)) throw new TypeError(`database name "${name}" is not [A-Za-z0-9_]{1,64}`);
  return `\`${name}\``;
}

/** One MariaDB server process of a test run; see the module documentation. */
export class PrivateMariaDb {
  /** The temporary directory holding the datadir, socket, pid file and `error.log`. */
  readonly dir: string;
  readonly port: number;
  private child: ChildProcess | null = null;

  private constructor(dir: string, port: number) {
    this.dir = dir;
    this.port = port;
  }

  /** Initialises a datadir in a new temporary directory and starts the server. */
  static async create(): Promise<PrivateMariaDb> {
    if (!existsSync(MARIADBD)) {
      throw new Error(`${MARIADBD} not found: a private MariaDB needs a local MariaDB server (apt-get install mariadb-server)`);
    }
    const dir = mkdtempSync(join(tmpdir(), 'callscope-mariadbd-'));
    execFileSync(
      findInstallDb(),
      ['--no-defaults', `--datadir=${join(dir, 'data')}`, '--user=root', '--auth-root-authentication-method=normal', '--skip-test-db'],
      { stdio: 'ignore' },
    );
    const db = new PrivateMariaDb(dir, await freePort());
    await db.start();
    return db;
  }

  /** `mysql://root@127.0.0.1:<port>/<database>` */
  url(database = ''): string {
    return `mysql://root@127.0.0.1:${this.port}/${database}`;
  }

  /** Whether this object started a server process that has not been stopped or killed since. */
  get running(): boolean {
    return this.child !== null;
  }

  /** Starts the server; resolves once it accepts connections. Throws if it is already running. */
  async start(): Promise<void> {
    if (this.child !== null) throw new Error('private mariadbd is already running');
    const child = spawn(
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
    this.child = child;
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      try {
        const conn = await createConnection({ uri: this.url(), connectTimeout: 500 });
        await conn.end();
        return;
      } catch (err) {
        const exited = child.exitCode !== null || child.signalCode !== null;
        if (exited || Date.now() > deadline) {
          if (this.child === child) this.child = null;
          if (!exited) child.kill('SIGKILL');
          throw new Error(`private mariadbd did not start${exited ? ' (it exited)' : ''}: ${String(err)} (see ${this.dir}/error.log)`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** Clean shutdown (SIGTERM, InnoDB flushed); resolves once the process has exited. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child === null) return;
    this.child = null;
    const exited = new Promise<void>((resolve) => {
      child.once('exit', () => {
        resolve();
      });
    });
    child.kill('SIGCONT'); // a frozen server cannot shut down
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      exited.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => {
          resolve(true);
        }, STOP_TIMEOUT_MS);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      child.kill('SIGKILL');
      await exited;
      throw new Error(`private mariadbd did not shut down within ${STOP_TIMEOUT_MS} ms of SIGTERM (SIGKILLed; see ${this.dir}/error.log)`);
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

  /**
   * Runs one statement on a connection of its own (to `database`, or none) and returns its rows;
   * numbers come back as numbers (`COUNT(*)` too), dates as strings.
   */
  async query(sql: string, database = '', values: unknown[] = []): Promise<Record<string, unknown>[]> {
    const conn = await createConnection({ uri: this.url(database), supportBigNumbers: false, dateStrings: true });
    try {
      const [rows] = await conn.query<RowDataPacket[]>(sql, values);
      return rows;
    } finally {
      await conn.end();
    }
  }

  /** Whether `database` exists on the server. */
  async hasDatabase(database: string): Promise<boolean> {
    const rows = await this.query('SELECT COUNT(*) n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', '', [database]);
    return rows[0]?.['n'] === 1;
  }

  /** `CREATE DATABASE` (utf8mb4) when missing. */
  async createDatabase(database: string): Promise<void> {
    await this.query(`CREATE DATABASE IF NOT EXISTS ${quoteIdentifier(database)} CHARACTER SET utf8mb4`);
  }

  /** `DROP DATABASE IF EXISTS`. */
  async dropDatabase(database: string): Promise<void> {
    await this.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(database)}`);
  }

  /** Kills the server (no flush: nothing is kept) and deletes its directory. */
  async destroy(): Promise<void> {
    this.thaw();
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
