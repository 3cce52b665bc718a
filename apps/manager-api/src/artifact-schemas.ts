/**
 * Response schemas of the per-call artifact routes (`sip`, `streams`), mirroring the types of
 * @callscope/call-artifacts. Declared in full: fastify serialises a response through its schema, so
 * a property left out here would be dropped from the answer (and from the OpenAPI document).
 */
const endpoint = { type: 'object', required: ['ip', 'port'], additionalProperties: false, properties: { ip: { type: 'string' }, port: { type: 'integer' } } } as const;
const truncatedFiles = {
  type: 'array',
  description: 'Spool files that ended inside a record (a writer killed mid-write): their complete records were read.',
  items: { type: 'object', required: ['path', 'code'], additionalProperties: false, properties: { path: { type: 'string' }, code: { type: 'string' } } },
} as const;

/** `GET /api/v1/calls/{callId}/sip`. */
export const SIP_LADDER_SCHEMA = {
  type: 'object',
  required: ['callId', 'count', 'truncated', 'messagesSeen', 'messages', 'filesTruncated', 'skipped'],
  additionalProperties: false,
  properties: {
    callId: { type: 'string' },
    count: { type: 'integer', description: 'Messages returned.' },
    truncated: { type: 'boolean', description: 'More messages than the limit (10,000) were in the spool.' },
    messagesSeen: { type: 'integer' },
    messages: {
      type: 'array',
      items: {
        type: 'object',
        required: ['time', 'src', 'dst', 'transport', 'firstLine', 'method', 'statusCode', 'cseq', 'headers', 'body', 'retransmission', 'raw'],
        additionalProperties: false,
        properties: {
          time: { type: 'string', description: 'Capture time, ISO UTC with microseconds.' },
          src: endpoint,
          dst: endpoint,
          transport: { type: 'string' },
          firstLine: { type: 'string' },
          method: { type: 'string', description: 'The request method, or the CSeq method of a response.' },
          statusCode: { type: 'integer', nullable: true },
          cseq: { type: 'integer' },
          headers: {
            type: 'array',
            items: { type: 'object', required: ['name', 'value'], additionalProperties: false, properties: { name: { type: 'string' }, value: { type: 'string' } } },
          },
          body: { type: 'string' },
          retransmission: { type: 'boolean', description: 'An earlier message had the same first line, CSeq, top Via branch and direction.' },
          raw: { type: 'string' },
        },
      },
    },
    filesTruncated: truncatedFiles,
    skipped: {
      type: 'object',
      required: ['notDecoded', 'fragments', 'notSip', 'otherCallId'],
      additionalProperties: false,
      properties: { notDecoded: { type: 'integer' }, fragments: { type: 'integer' }, notSip: { type: 'integer' }, otherCallId: { type: 'integer' } },
    },
  },
} as const;

/** `GET /api/v1/calls/{callId}/streams`. */
export const STREAM_SERIES_SCHEMA = {
  type: 'object',
  required: ['callId', 'bucketMs', 'streams', 'rtpMissing', 'sipMissing', 'untrackedPackets', 'skippedPackets', 'filesTruncated'],
  additionalProperties: false,
  properties: {
    callId: { type: 'string' },
    bucketMs: { type: 'integer' },
    streams: {
      type: 'array',
      items: {
        type: 'object',
        required: ['ssrc', 'src', 'dst', 'side', 'payloadType', 'codec', 'packets', 'lost', 'buckets'],
        additionalProperties: false,
        properties: {
          ssrc: { type: 'string' },
          src: endpoint,
          dst: endpoint,
          side: { type: 'string', nullable: true, enum: ['caller', 'callee', null] },
          payloadType: { type: 'integer' },
          codec: { type: 'string', nullable: true },
          packets: { type: 'integer' },
          lost: { type: 'integer' },
          buckets: {
            type: 'array',
            items: {
              type: 'object',
              required: ['index', 'start', 'packets', 'lost', 'jitterMaxMs', 'maxDeltaMs', 'mos'],
              additionalProperties: false,
              properties: {
                index: { type: 'integer' },
                start: { type: 'string' },
                packets: { type: 'integer' },
                lost: { type: 'integer' },
                jitterMaxMs: { type: 'number' },
                maxDeltaMs: { type: 'number' },
                mos: {
                  type: 'object',
                  nullable: true,
                  required: ['f1', 'f2', 'adapt'],
                  additionalProperties: false,
                  properties: { f1: { type: 'number' }, f2: { type: 'number' }, adapt: { type: 'number' } },
                },
              },
            },
          },
        },
      },
    },
    rtpMissing: { type: 'boolean' },
    sipMissing: { type: 'boolean' },
    untrackedPackets: { type: 'integer' },
    skippedPackets: { type: 'integer' },
    filesTruncated: truncatedFiles,
  },
} as const;
