export type { DbTarget } from './db-pool.js';
export type { OpenedPool, PoolOptions } from './db-pool.js';
export { endPool, ensureDatabase, openPool } from './db-pool.js';
// The logger contract is @callscope/runtime's; re-exported for callers that configure the writer.
export { IpBytesCache, ipToBytes } from './ip-address.js';
export type { AppliedMigration, MigrateOptions, MigrateResult, Migration, MigrationStatus } from './migrations.js';
export {
  LATEST_SCHEMA_VERSION,
  MIGRATIONS,
  MIGRATION_ERROR,
  MigrationError,
  migrate,
  migrationChecksum,
  migrationStatus,
} from './migrations.js';
export type { EnsurePartitionsOptions, RetentionResult } from './partitions.js';
export { applyRetention, ensurePartitions, readPartitions } from './partitions.js';
export type { PartitionBound, PartitionSplit } from './partition-plan.js';
export { PARTITION_MAX, PARTITION_OLD, planAhead, planPartitionSplit, partitionsToDrop } from './partition-plan.js';
export type { PartitionedTable } from './schema-sql.js';
export { PARTITIONED_TABLES } from './schema-sql.js';
export type { CdrLostReasons, CdrWriterOptions, CdrWriterRecord, CdrWriterStats } from './cdr-writer.js';
export { CDR_WRITE_ERROR, CdrQueueTargetError, CdrWriteError, CdrWriter, databaseKey } from './cdr-writer.js';
export { MAX_PLACEHOLDERS, PreparedInsert, chunkSizes } from './prepared-insert.js';
export type { DiskQueueOptions, DiskQueueStats, QueueEntry, QueueTarget } from './queue/disk-queue.js';
export { DiskQueue, readQueueTarget } from './queue/disk-queue.js';
export type { QueueHolder, QueueLock } from './queue/queue-lock.js';
export { QueueLockedError, lockQueue } from './queue/queue-lock.js';
export type { QueueDamage, QueueStatus, QueueVerification } from './queue/queue-inspect.js';
export { queueStatus, verifyQueue } from './queue/queue-inspect.js';
export type { CdrSearchFilter, CdrSummary, RegisterSearchFilter, SqlQuery } from './cdr-queries.js';
export { buildCallSearch, getCall, searchCalls, searchRegistrations } from './cdr-queries.js';
export type { IpByteRange } from './gui-ip-range.js';
export { parseIpRange } from './gui-ip-range.js';
export type {
  GuiCallDetail,
  GuiCallFilter,
  GuiCallPage,
  GuiCallRow,
  GuiCallSearch,
  GuiKeyset,
  GuiNumberFilter,
  GuiRelatedCall,
  GuiRelatedSubject,
  GuiRelation,
  GuiSort,
  GuiSortKey,
  GuiTextMatch,
} from './gui-search.js';
export {
  GUI_PAGE_MAX,
  GUI_RELATIONS,
  GUI_SORT_KEYS,
  RELATED_LEG_WINDOW_S,
  RELATED_MAX,
  RELATED_WINDOW_S,
  buildGuiKeyQuery,
  buildRelatedQuery,
  buildTieKeys,
  findRelatedCalls,
  getGuiCall,
  guiFilterSql,
  guiRowOf,
  searchCallPage,
  sessionUuidOf,
} from './gui-search.js';
export { mainStream, worstMos } from './cdr-row.js';
export type { ServerAdvice, ServerSettings } from './server-check.js';
export { SERVER_MINIMUMS, adviceText, adviseServerSettings, formatBytes, readServerSettings } from './server-check.js';
export type { MigrateCliIo } from './cli/migrate.js';
export { runMigrateCli } from './cli/migrate.js';
export { SensorHeartbeatWriter } from './sensor-heartbeat.js';
export type { SensorHeartbeatRow } from './sensor-heartbeat.js';
export type { NewUser, UserRole, UserRow } from './users.js';
export { MAX_USER_NAME_LENGTH, USER_ROLES, countUsers, createFirstUser, createUser, findUserByName, recordUserLogin } from './users.js';
export type { GuiSessionLimits, GuiSessionRow } from './users-sessions.js';
export { SESSION_HASH_BYTES, createGuiSession, deleteExpiredGuiSessions, deleteGuiSession, findGuiSession, touchGuiSession } from './users-sessions.js';
export type { CallKey } from './call-key.js';
export { getCallKey } from './call-key.js';
export type { MirroredSensorRow, SensorListRow } from './sensor-list.js';
export { listMirroredSensors, listSensors } from './sensor-list.js';
