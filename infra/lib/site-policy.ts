/**
 * The SPA's `Permissions-Policy`, sent by CloudFront in AWS and by the local web server alike: the app itself may
 * use the camera, the microphone and screen capture (calls); nothing may use the rest, and no embedded frame
 * may use any of it.
 */
export const permissionsPolicy = [
  'camera=(self)',
  'microphone=(self)',
  'display-capture=(self)',
  'autoplay=(self)',
  'geolocation=()',
  'payment=()',
  'usb=()',
  'serial=()',
  'bluetooth=()',
  'hid=()',
  'midi=()',
  'accelerometer=()',
  'gyroscope=()',
  'magnetometer=()',
].join(', ');

/**
 * The SPA's Content-Security-Policy, sent by CloudFront in AWS and by the local web server alike: only the
 * origins in `connectSources` (the WebSocket API, the attachments bucket; the REST API is the site itself, or
 * locally its own origin) beyond the site, no plugins, no framing, no inline script.
 */
export function siteContentSecurityPolicy(connectSources: readonly string[]): string {
  return [
    "default-src 'self'",
    `connect-src 'self' ${connectSources.join(' ')}`,
    "script-src 'self' 'wasm-unsafe-eval'",
    "style-src 'self'",
    "img-src 'self' blob: data:",
    "media-src 'self' blob:",
    "object-src 'none'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
  ].join('; ');
}
