/** manager-api release, reported by /api/v1/health and /metrics; a test keeps it equal to package.json. */
export const MANAGER_API_VERSION = '0.1.0';
