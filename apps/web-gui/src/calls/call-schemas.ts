/**
 * Response JSON schemas of the call routes (api-types.ts as JSON Schema). Fastify serialises with
 * them, so a field missing here would be dropped silently: the route tests compare whole bodies.
 *
 * @packageDocumentation
 */
import { END_REASONS } from '@callscope/cdr-model';
import { GUI_RELATIONS } from '@callscope/cdr-schema';

const nullable = (type: 'string' | 'number' | 'integer') => ({ type: [type, 'null'] }) as const;

/** `CallListRow`. */
export const CALL_LIST_ROW_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: [
    'id', 'start', 'answer', 'end', 'duration', 'connect_duration', 'pdd_ms', 'sensor_id', 'sensor', 'call_id', 'caller', 'called',
    'caller_ip', 'callee_ip', 'last_sip_code', 'last_sip_reason', 'end_reason', 'bye_by', 'mos_worst', 'a_mos', 'b_mos',
    'a_loss_pct', 'b_loss_pct', 'a_jitter_max_ms', 'b_jitter_max_ms', 'a_codec', 'b_codec', 'a_codecs', 'b_codecs', 'incomplete',
  ],
  properties: {
    id: { type: 'integer' },
    start: { type: 'string' },
    answer: nullable('string'),
    end: { type: 'string' },
    duration: { type: 'number' },
    connect_duration: nullable('number'),
    pdd_ms: nullable('number'),
    sensor_id: { type: 'integer' },
    sensor: { type: 'string' },
    call_id: { type: 'string' },
    caller: { type: 'string' },
    called: { type: 'string' },
    caller_ip: { type: 'string' },
    callee_ip: { type: 'string' },
    last_sip_code: nullable('integer'),
    last_sip_reason: nullable('string'),
    end_reason: { type: 'string', enum: [...END_REASONS] },
    bye_by: { type: ['string', 'null'], enum: ['caller', 'callee', null] },
    mos_worst: nullable('number'),
    a_mos: nullable('number'),
    b_mos: nullable('number'),
    a_loss_pct: nullable('number'),
    b_loss_pct: nullable('number'),
    a_jitter_max_ms: nullable('number'),
    b_jitter_max_ms: nullable('number'),
    a_codec: nullable('string'),
    b_codec: nullable('string'),
    a_codecs: nullable('string'),
    b_codecs: nullable('string'),
    incomplete: { type: 'boolean' },
  },
} as const;

/** `CallSearchPage`. */
export const CALL_SEARCH_PAGE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['calls', 'next', 'tookMs'],
  properties: {
    calls: { type: 'array', items: CALL_LIST_ROW_SCHEMA },
    next: nullable('string'),
    tookMs: { type: 'number' },
  },
} as const;

/**
 * `CallDetailBody`. `call` is the `CallRecord` as `getCall` rebuilt it, serialised whole
 * (`additionalProperties: true`): its shape is cdr-model's contract, tested there and in the
 * writer's round-trip tests, and a partial schema here would silently drop fields.
 */
export const CALL_DETAIL_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'sensor_id', 'call', 'artifacts'],
  properties: {
    id: { type: 'integer' },
    sensor_id: { type: 'integer' },
    call: { type: 'object', additionalProperties: true },
    artifacts: { type: 'boolean' },
  },
} as const;

/** `RelatedCallsBody`. */
export const RELATED_CALLS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['calls'],
  properties: {
    calls: {
      type: 'array',
      items: {
        ...CALL_LIST_ROW_SCHEMA,
        required: [...CALL_LIST_ROW_SCHEMA.required, 'relation', 'relation_header'],
        properties: {
          ...CALL_LIST_ROW_SCHEMA.properties,
          relation: { type: 'string', enum: [...GUI_RELATIONS] },
          relation_header: nullable('string'),
        },
      },
    },
  },
} as const;

/** Path and query of `GET /calls/{id}` and `/calls/{id}/related`. */
export const CALL_KEY_PARAMS_SCHEMA = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^[1-9]\\d{0,14}$' } },
} as const;
export const CALL_KEY_QUERY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['start'],
  properties: { start: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,6})?Z$' } },
} as const;
