/**
 * Compile-time guard, no runtime code: the SIP ladder and stream series that the artifact routes
 * pass through from manager-api (libs/call-artifacts' types) must fit the shapes the browser reads
 * (`../artifact-types.ts`, restated because the client's typecheck cannot walk the library). A
 * field renamed or retyped in the library fails `tsc` here instead of breaking the page.
 */
import type { CallSipLadder, CallStreamSeries } from '@callscope/call-artifacts';
import type { LadderBody, SeriesBody } from '../artifact-types.js';

/** Assignable in the direction the data flows: library object -> what the page reads. */
export type LadderFits = CallSipLadder extends LadderBody ? true : never;
export type SeriesFits = CallStreamSeries extends SeriesBody ? true : never;
export const ARTIFACT_TYPES_FIT: [LadderFits, SeriesFits] = [true, true];
