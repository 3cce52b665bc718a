import { defineProjectConfig } from '../vitest.shared.ts';

export default defineProjectConfig({ testTimeout: 60_000 });
