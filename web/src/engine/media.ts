/**
 * Pictures made in the browser: thumbnails of images and videos (JPEG, at most 320 px a side) and avatars
 * (256 px). Everything here needs a DOM (createImageBitmap, canvas, <video>); without one, or when the browser
 * cannot decode the file, there is simply no thumbnail.
 */

export const THUMBNAIL_MAX_PX = 320;
export const AVATAR_MAX_PX = 256;
const JPEG_QUALITY = 0.8;
const VIDEO_TIMEOUT_MS = 5000;

/** Image types shown inline (decoded by <img> without running anything); SVG is not one of them. */
export const INLINE_IMAGE_TYPES: ReadonlySet<string> = new Set(['image/jpeg', 'image/png', 'image/webp', 'image/gif']);
export const isInlineVideo = (type: string) => /^video\/(mp4|webm|ogg|quicktime)$/.test(type);

/** Scales `width` x `height` down (never up) to fit in `max` x `max`, keeping the aspect ratio; at least 1 px. */
export function fitWithin(width: number, height: number, max: number): { width: number; height: number } {
  const scale = Math.min(1, max / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

export interface Picture {
  blob: Blob;
  width: number;
  height: number;
}

export interface MediaFacts {
  width?: number;
  height?: number;
  durationSeconds?: number;
  thumbnail?: Picture;
}

/** Dimensions, duration and a thumbnail of an image or a video; `{}` for other files or when it cannot tell. */
export async function describeMedia(file: Blob): Promise<MediaFacts> {
  try {
    if (INLINE_IMAGE_TYPES.has(file.type)) {
      const bitmap = await createImageBitmap(file);
      try {
        return {
          width: bitmap.width,
          height: bitmap.height,
          thumbnail: await drawJpeg(bitmap, bitmap.width, bitmap.height, THUMBNAIL_MAX_PX),
        };
      } finally {
        bitmap.close();
      }
    }
    if (file.type.startsWith('video/') && typeof document !== 'undefined') return await videoFacts(file);
  } catch {
    // Not decodable here: sent without a thumbnail.
  }
  return {};
}

/** An image as a square-ish avatar: scaled to fit 256 px, JPEG. */
export async function avatarPicture(file: Blob): Promise<Picture> {
  const bitmap = await createImageBitmap(file);
  try {
    return await drawJpeg(bitmap, bitmap.width, bitmap.height, AVATAR_MAX_PX);
  } finally {
    bitmap.close();
  }
}

async function drawJpeg(source: CanvasImageSource, width: number, height: number, max: number): Promise<Picture> {
  const size = fitWithin(width, height, max);
  let blob: Blob;
  if (typeof OffscreenCanvas !== 'undefined') {
    const canvas = new OffscreenCanvas(size.width, size.height);
    const context = canvas.getContext('2d');
    if (!context) throw new Error('no 2d context');
    paint(context, source, size);
    blob = await canvas.convertToBlob({ type: 'image/jpeg', quality: JPEG_QUALITY });
  } else {
    const canvas = document.createElement('canvas');
    canvas.width = size.width;
    canvas.height = size.height;
    const context = canvas.getContext('2d');
    if (!context) throw new Error('no 2d context');
    paint(context, source, size);
    blob = await new Promise<Blob>((resolve, reject) =>
      canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('no JPEG'))), 'image/jpeg', JPEG_QUALITY),
    );
  }
  return { blob, ...size };
}

function paint(
  context: CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D,
  source: CanvasImageSource,
  size: { width: number; height: number },
): void {
  // JPEG has no transparency: transparent pixels become white rather than black.
  context.fillStyle = '#fff';
  context.fillRect(0, 0, size.width, size.height);
  context.drawImage(source, 0, 0, size.width, size.height);
}

async function videoFacts(file: Blob): Promise<MediaFacts> {
  const url = URL.createObjectURL(file);
  const video = document.createElement('video');
  video.muted = true;
  video.preload = 'auto';
  video.playsInline = true;
  try {
    video.src = url;
    await event(video, 'loadeddata');
    const duration = Number.isFinite(video.duration) ? video.duration : undefined;
    video.currentTime = Math.min(1, (duration ?? 0) / 2);
    await event(video, 'seeked');
    const facts: MediaFacts = { width: video.videoWidth, height: video.videoHeight };
    if (duration !== undefined) facts.durationSeconds = Math.round(duration * 10) / 10;
    if (video.videoWidth > 0 && video.videoHeight > 0) {
      facts.thumbnail = await drawJpeg(video, video.videoWidth, video.videoHeight, THUMBNAIL_MAX_PX);
    }
    return facts;
  } finally {
    video.removeAttribute('src');
    video.load();
    URL.revokeObjectURL(url);
  }
}

function event(target: HTMLVideoElement, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`no ${name}`)), VIDEO_TIMEOUT_MS);
    const onEvent = () => done();
    const onError = () => done(new Error('video error'));
    function done(error?: Error) {
      clearTimeout(timer);
      target.removeEventListener(name, onEvent);
      target.removeEventListener('error', onError);
      if (error) reject(error);
      else resolve();
    }
    target.addEventListener(name, onEvent);
    target.addEventListener('error', onError);
  });
}
