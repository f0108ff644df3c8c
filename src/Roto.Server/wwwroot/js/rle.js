// COCO compressed RLE, as Roto (and Kling) send it in `rle_mask.counts`: `size` is [height, width],
// runs walk the pixels column by column and alternate 0s and 1s, starting with 0s (spec §5.2).
// Written by hand because no browser API decodes it; it is the same algorithm as pycocotools' rleFrString.

/** Parses a counts string into run lengths. */
export function parseCounts(s) {
  const counts = [];
  let p = 0;
  while (p < s.length) {
    let x = 0;
    let k = 0;
    let more = true;
    while (more) {
      if (p >= s.length) throw new Error('RLE counts end in the middle of a number');
      const c = s.charCodeAt(p) - 48;
      x |= (c & 0x1f) << (5 * k);
      more = (c & 0x20) !== 0;
      p++;
      k++;
      if (!more && (c & 0x10) !== 0) x |= -1 << (5 * k);
    }
    if (counts.length > 2) x += counts[counts.length - 2];
    counts.push(x);
  }
  return counts;
}

/**
 * Decodes `{size: [h, w], counts}` into a row-major Uint8Array of h*w bytes (1 = selected).
 * Throws when the runs do not add up to h*w, so a corrupt mask never draws as a plausible one.
 */
export function decodeRle(rle) {
  const [height, width] = rle.size;
  const runs = parseCounts(rle.counts);
  const data = new Uint8Array(height * width);
  let p = 0;
  let value = 0;
  for (const n of runs) {
    if (n < 0 || p + n > height * width) throw new Error('RLE runs do not fit the mask size');
    if (value === 1) {
      for (let i = p; i < p + n; i++) {
        const x = (i / height) | 0;
        const y = i - x * height;
        data[y * width + x] = 1;
      }
    }
    p += n;
    value ^= 1;
  }
  if (p !== height * width) throw new Error(`RLE runs cover ${p} pixels, mask has ${height * width}`);
  return { width, height, data };
}

/** Number of selected pixels, straight from the runs (no decoding). */
export function rleArea(rle) {
  const runs = parseCounts(rle.counts);
  let area = 0;
  for (let i = 1; i < runs.length; i += 2) area += runs[i];
  return area;
}
