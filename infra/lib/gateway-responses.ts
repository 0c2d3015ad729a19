/**
 * What API Gateway answers when the REST API's authorizer fails (throws or times out, e.g. while its
 * database restarts): `503 unavailable` with `Retry-After`, in the API's error shape, instead of API
 * Gateway's bare 500. The CDK stack configures it as the AUTHORIZER_FAILURE gateway response; the local twin
 * answers the same.
 */
export const AUTHORIZER_RETRY_SECONDS = 2;
export const AUTHORIZER_UNAVAILABLE_BODY = JSON.stringify({
  error: {
    code: 'unavailable',
    message: 'Service unavailable; try again shortly',
    retryAfterSeconds: AUTHORIZER_RETRY_SECONDS,
  },
});
