// Turns mask entries from Roto's responses ({object_id, rle_mask, png_mask}) into coloured overlay images.
import { decodeRle } from './rle.js';

// The first colour is the one Kling's own rendering sample paints masks with.
const PALETTE = [
  [116, 255, 82],
  [255, 96, 96],
  [72, 164, 255],
  [255, 200, 40],
  [204, 102, 255],
  [40, 220, 220],
  [255, 150, 205],
  [240, 240, 240],
];

export function objectColor(objectId) {
  return PALETTE[((objectId % PALETTE.length) + PALETTE.length) % PALETTE.length];
}

export function objectCss(objectId, alpha = 1) {
  const [r, g, b] = objectColor(objectId);
  return `rgba(${r}, ${g}, ${b}, ${alpha})`;
}

async function pngToBits(base64) {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(bitmap, 0, 0);
  const rgba = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
  const data = new Uint8Array(bitmap.width * bitmap.height);
  for (let i = 0; i < data.length; i++) data[i] = rgba[i * 4] > 127 ? 1 : 0;
  return { width: bitmap.width, height: bitmap.height, data };
}

/** Decodes one entry's mask bits, preferring the RLE and falling back to the PNG. */
export async function entryBits(entry) {
  if (entry.rle_mask?.counts !== undefined && entry.rle_mask?.size) return decodeRle(entry.rle_mask);
  if (entry.png_mask?.base64) return pngToBits(entry.png_mask.base64);
  return null;
}

/**
 * Paints every entry of an rle_mask_list into one canvas of mask size: the object's colour, translucent
 * inside and opaque on the edge so that the outline stays visible over busy frames.
 * Returns null when the list holds no mask.
 */
export async function paintMaskList(list, fillAlpha = 120) {
  let canvas = null;
  let image = null;
  for (const entry of list ?? []) {
    const bits = await entryBits(entry);
    if (!bits) continue;
    const { width, height, data } = bits;
    if (!canvas) {
      canvas = new OffscreenCanvas(width, height);
      image = new ImageData(width, height);
    }
    if (width !== image.width || height !== image.height) continue;
    const [r, g, b] = objectColor(entry.object_id ?? 0);
    const px = image.data;
    for (let y = 0; y < height; y++) {
      const row = y * width;
      for (let x = 0; x < width; x++) {
        const i = row + x;
        if (!data[i]) continue;
        const edge = x === 0 || y === 0 || x === width - 1 || y === height - 1 ||
          !data[i - 1] || !data[i + 1] || !data[i - width] || !data[i + width];
        const o = i * 4;
        px[o] = r;
        px[o + 1] = g;
        px[o + 2] = b;
        px[o + 3] = edge ? 255 : fillAlpha;
      }
    }
  }
  if (!canvas) return null;
  canvas.getContext('2d').putImageData(image, 0, 0);
  return canvas;
}
