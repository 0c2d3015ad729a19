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
