import type { AttachmentDownloadResponse, CreateAttachmentResponse } from '@ciphertalk/shared/protocol';
import { db } from '#adapters/clients/db.ts';
import { objectStore } from '#adapters/clients/object-store.ts';
import { rateLimiter } from '#adapters/clients/rate-limiter.ts';
import { config } from '#config';
import { type AttachmentDeps, createUpload, downloadLink } from '#domain/attachments.ts';
import { json, route } from '#lib/http.ts';
import { principalOf } from '#lib/principal.ts';
import { routes } from '#lib/router.ts';
import { systemClock } from '#ports/clock.ts';

const deps = (): AttachmentDeps => ({
  db: db(),
  store: objectStore(),
  limits: config.attachments,
  limiter: rateLimiter(),
  clock: systemClock,
  limitScale: config.rateLimitMultiplier,
});

/**
 * `/attachments*`: upload slots for encrypted files (a presigned POST straight to S3) and short-lived
 * download links for members of the conversation an attachment was sent in.
 */
export const handler = routes({
  'POST /attachments': route('POST /attachments', async (request) => {
    const { userId } = principalOf(request.event);
    const created = await createUpload(deps(), userId, request.body);
    return json(201, created satisfies CreateAttachmentResponse);
  }),

  'GET /attachments/{attachmentId}': route('GET /attachments/{attachmentId}', async (request) => {
    const { userId } = principalOf(request.event);
    const link = await downloadLink(deps(), userId, request.path.attachmentId);
    return json(200, link satisfies AttachmentDownloadResponse);
  }),
});
