import { openApiDocument } from '@ciphertalk/shared/openapi';
import { json, route } from '#lib/http.ts';

/** `GET /openapi.json`: the REST API's OpenAPI 3.1 description, generated once per container from the shared schemas. */
const document = openApiDocument();

export const handler = route('GET /openapi.json', async () =>
  json(200, document, { headers: { 'cache-control': 'public, max-age=300' } }),
);
