// The OpenAPI 3.1 description of the server's routes, written by hand beside them (the routes check
// their own inputs, to answer in each API's error shape; fastify's schema validation would answer in
// its own). Served at /openapi.json, rendered at /docs.
const errorTei = {
  type: 'object',
  required: ['error', 'error_type'],
  properties: { error: { type: 'string' }, error_type: { type: 'string', enum: ['Empty', 'Validation', 'Tokenizer', 'Backend', 'Overloaded', 'Unhealthy', 'PayloadTooLarge', 'Unauthorized'] } },
};
const errorOpenAI = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['message', 'type', 'param', 'code'],
      properties: { message: { type: 'string' }, type: { type: 'string' }, param: { type: ['string', 'null'] }, code: { type: ['string', 'null'] } },
    },
  },
};
const json = (schema: unknown) => ({ content: { 'application/json': { schema } } });
const teiErrors = Object.fromEntries(
  [
    ['400', 'Empty input or bad JSON'],
    ['401', 'Missing or wrong API key'],
    ['413', 'Body or input over the limits'],
    ['422', 'Invalid input'],
    ['424', 'The model failed'],
    ['429', 'Too many requests in flight'],
    ['503', 'Shutting down'],
  ].map(([code, description]) => [code, { description, ...json({ $ref: '#/components/schemas/TeiError' }) }]),
);
const openaiErrors = Object.fromEntries(
  [
    ['400', 'Invalid request'],
    ['401', 'Missing or wrong API key'],
    ['413', 'Body or input over the limits'],
    ['424', 'The model failed'],
    ['429', 'Too many requests in flight'],
    ['503', 'Shutting down'],
  ].map(([code, description]) => [code, { description, ...json({ $ref: '#/components/schemas/OpenAIError' }) }]),
);
/** An optional field: null is taken as absent, as OpenAI's API takes it. */
const nullable = (schema: Record<string, unknown>) => ({ anyOf: [schema, { type: 'null' }] });
const stringOrList = { oneOf: [{ type: 'string', minLength: 1 }, { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 }] };
const vectors = { type: 'array', items: { type: 'array', items: { type: 'number' } } };

/** The OpenAPI document; `dimension`, `prompts`, `vocabSize` and `maxSeqLength` are the loaded model's. */
export function openApiDocument(o: { title: string; dimension: number; prompts: string[]; vocabSize: number; maxSeqLength: number; secured: boolean; rerank: boolean }): { paths: Record<string, Record<string, unknown>> } & Record<string, unknown> {
  // A model without prompts takes no prompt_name (the bodies allow no other field).
  const promptName = o.prompts.length ? { prompt_name: nullable({ type: 'string', enum: o.prompts, description: 'a prompt of config_sentence_transformers.json' }) } : {};
  const tokenId = { type: 'integer', minimum: 0, maximum: o.vocabSize - 1 };
  // Token ids, embedded as they are (special tokens included if wanted); longer lists are cut only with truncate.
  const ids = { type: 'array', items: tokenId, minItems: 1, maxItems: o.maxSeqLength, description: "the model's token ids of one input" };
  const idsOrLists = { oneOf: [ids, { type: 'array', items: ids, minItems: 1 }] };
  const textsOrIds = { oneOf: [...stringOrList.oneOf, ...idsOrLists.oneOf] };
  const openaiBody = {
    type: 'object',
    required: ['input'],
    additionalProperties: false,
    properties: {
      input: textsOrIds,
      model: { type: 'string' },
      encoding_format: nullable({ type: 'string', enum: ['float', 'base64'], default: 'float' }),
      dimensions: nullable({ type: 'integer', minimum: 1, maximum: o.dimension }),
      user: { type: 'string' },
    },
  };
  const openaiResponse = {
    type: 'object',
    required: ['object', 'data', 'model', 'usage'],
    properties: {
      object: { const: 'list' },
      data: {
        type: 'array',
        items: {
          type: 'object',
          required: ['object', 'index', 'embedding'],
          properties: { object: { const: 'embedding' }, index: { type: 'integer' }, embedding: { oneOf: [{ type: 'array', items: { type: 'number' } }, { type: 'string', description: 'base64 of little-endian float32' }] } },
        },
      },
      model: { type: 'string' },
      usage: { type: 'object', required: ['prompt_tokens', 'total_tokens'], properties: { prompt_tokens: { type: 'integer' }, total_tokens: { type: 'integer' } } },
    },
  };
  const openaiOp = (summary: string) => ({
    summary,
    tags: ['OpenAI'],
    requestBody: { required: true, ...json(openaiBody) },
    responses: { '200': { description: 'The embeddings, normalized', ...json(openaiResponse) }, ...openaiErrors },
  });
  /**
   * A TEI POST route: its body (an object of `properties`, `required` ones, nothing else — or one of
   * several such objects) and its answer.
   */
  const teiPost = (summary: string, required: string[], properties: Record<string, unknown> | Record<string, unknown>[], ok: string, okSchema: unknown) => ({
    post: {
      summary,
      tags: ['TEI'],
      requestBody: {
        required: true,
        ...json(Array.isArray(properties) ? { oneOf: properties.map((p) => ({ type: 'object', required, additionalProperties: false, properties: p })) } : { type: 'object', required, additionalProperties: false, properties }),
      },
      responses: { '200': { description: ok, ...json(okSchema) }, ...teiErrors },
    },
  });
  const embedOptions = { normalize: nullable({ type: 'boolean', default: true }), dimensions: nullable({ type: 'integer', minimum: 1, maximum: o.dimension }) };
  const cut = {
    truncate: nullable({ type: 'boolean', description: 'cut inputs longer than the model takes (default: the server\'s --auto-truncate)' }),
    truncation_direction: nullable({ type: 'string', enum: ['Right', 'right'] }),
  };
  // A prompt applies to texts only: token ids are embedded as they are (a null prompt_name is no prompt).
  const truncation = { ...cut, ...promptName };
  const idsCut = { ...cut, ...(o.prompts.length ? { prompt_name: { type: 'null' } } : {}) };
  const embedRoute = (summary: string) =>
    teiPost(
      summary,
      ['inputs'],
      [
        { inputs: stringOrList, ...embedOptions, ...truncation },
        { inputs: idsOrLists, ...embedOptions, ...idsCut },
      ],
      'One vector per input',
      vectors,
    );
  return {
    openapi: '3.1.0',
    info: { title: o.title, version: '1', description: "embedrt serve: OpenAI's and text-embeddings-inference's embedding APIs." },
    ...(o.secured ? { security: [{ bearer: [] }] } : {}),
    components: {
      schemas: { TeiError: errorTei, OpenAIError: errorOpenAI },
      ...(o.secured ? { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } } : {}),
    },
    paths: {
      '/v1/embeddings': { post: openaiOp('Create embeddings (OpenAI)') },
      '/embeddings': { post: openaiOp('Create embeddings (OpenAI, without /v1)') },
      '/embed': embedRoute('Embed inputs (text-embeddings-inference)'),
      '/': embedRoute('Embed inputs: TEI\'s root route, as /embed'),
      '/embed_all': teiPost(
        "Every token's embedding, special tokens included, not pooled or normalized",
        ['inputs'],
        [
          { inputs: stringOrList, ...truncation },
          { inputs: idsOrLists, ...idsCut },
        ],
        'One vector per token of each input',
        { type: 'array', items: vectors },
      ),
      '/similarity': teiPost(
        'Cosine similarity of sentences to a source sentence',
        ['inputs'],
        {
          inputs: {
            type: 'object',
            required: ['source_sentence', 'sentences'],
            properties: { source_sentence: { type: 'string', minLength: 1 }, sentences: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 } },
          },
          ...truncation,
        },
        'One score per sentence',
        { type: 'array', items: { type: 'number' } },
      ),
      ...(o.rerank
        ? {
            '/rerank': teiPost(
              'Score texts against a query with the reranker (a cross-encoder), best first',
              ['query', 'texts'],
              {
                query: { type: 'string', minLength: 1 },
                texts: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
                raw_scores: nullable({ type: 'boolean', default: false, description: 'the logits, without the activation' }),
                return_text: nullable({ type: 'boolean', default: false }),
                ...cut,
              },
              'The texts, best first',
              { type: 'array', items: { type: 'object', required: ['index', 'score'], properties: { index: { type: 'integer' }, score: { type: 'number' }, text: { type: 'string' } } } },
            ),
          }
        : {}),
      '/tokenize': teiPost(
        'Tokenize inputs',
        ['inputs'],
        { inputs: stringOrList, add_special_tokens: nullable({ type: 'boolean', default: true }), ...promptName },
        'The tokens of each input',
        {
          type: 'array',
          items: {
            type: 'array',
            items: {
              type: 'object',
              required: ['id', 'text', 'special', 'start', 'stop'],
              properties: { id: { type: 'integer' }, text: { type: 'string' }, special: { type: 'boolean' }, start: { type: ['integer', 'null'] }, stop: { type: ['integer', 'null'] } },
            },
          },
        },
      ),
      '/decode': teiPost(
        'Token ids back to text',
        ['ids'],
        {
          ids: { oneOf: [{ type: 'array', items: tokenId, minItems: 1 }, { type: 'array', items: { type: 'array', items: tokenId }, minItems: 1 }] },
          skip_special_tokens: nullable({ type: 'boolean', default: true }),
        },
        'The text (or one per list of ids)',
        { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
      ),
      '/info': { get: { summary: 'The model and the server limits', tags: ['TEI'], responses: { '200': { description: 'Information', ...json({ type: 'object' }) }, '401': teiErrors['401'] } } },
      '/health': { get: { summary: 'Ready: 200; shutting down: 503', tags: ['TEI'], security: [], responses: { '200': { description: 'Ready' }, '503': teiErrors['503'] } } },
      '/metrics': { get: { summary: 'Prometheus metrics', tags: ['TEI'], responses: { '200': { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } }, '401': teiErrors['401'] } } },
    },
  };
}
