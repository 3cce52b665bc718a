import { defineProjectConfig } from '../../vitest.shared.ts';

const config = defineProjectConfig();
// The front end's pure modules (formatting, ladder layout, URL <-> filter) are tested in Node too.
config.test!.include = [...(config.test!.include ?? []), 'client/src/**/*.test.ts'];
export default config;
