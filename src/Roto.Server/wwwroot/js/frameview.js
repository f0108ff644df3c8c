// Shows one frame of the session's normalized video on a canvas, with a second canvas on top for masks
// and points. Frames come from a <video> seeked to the middle of the frame's time slot, so that rounding
// in the decoder can never land on the neighbouring frame.
import { objectCss } from './masks.js';

const POINT_RADIUS_CSS = 8;
const PAINT_RETRY_MS = 40;
const PAINT_ATTEMPTS_PER_SEEK = 25;
const PAINT_ATTEMPTS = 75;

export class FrameView extends EventTarget {
  #video;
  #frameCanvas;
  #overlayCanvas;
  #stage;
  #fps = 30;
  #total = 0;
  #target = 0;
  #seekingTo = null;
  #seekId = 0;
  #paintAttempts = 0;
  #shown = -1;
  #layers = { mask: null, points: [] };

  constructor({ video, frameCanvas, overlayCanvas, stage }) {
    super();
    this.#video = video;
    this.#frameCanvas = frameCanvas;
    this.#overlayCanvas = overlayCanvas;
    this.#stage = stage;
    video.addEventListener('loadeddata', () => this.#seek());
    video.addEventListener('seeked', () => this.#onSeeked());
    video.addEventListener('error', () => this.dispatchEvent(new CustomEvent('videoerror')));
    overlayCanvas.addEventListener('click', (e) => this.#onClick(e));
    // Points keep their size on screen, so the overlay is redrawn when the canvas is resized.
    new ResizeObserver(() => this.#drawOverlay()).observe(overlayCanvas);
  }

  get frame() {
    return this.#target;
  }

  get total() {
    return this.#total;
  }

  /** facts: the init-selection answer (width, height, fps, total_frame, normalized_video). */
  open(facts) {
    this.#fps = facts.fps > 0 ? facts.fps : 30;
    this.#total = facts.total_frame;
    for (const canvas of [this.#frameCanvas, this.#overlayCanvas]) {
      canvas.width = facts.width;
      canvas.height = facts.height;
    }
    this.#stage.style.aspectRatio = `${facts.width} / ${facts.height}`;
    this.#frameCanvas.getContext('2d').clearRect(0, 0, facts.width, facts.height);
    this.#shown = -1;
    this.#seekingTo = null;
    this.#target = 0;
    this.#stage.dataset.state = 'loading';
    delete this.#stage.dataset.frame; // no frame of this video is drawn yet
    this.#layers = { mask: null, points: [] };
    this.#drawOverlay();
    this.#video.src = facts.normalized_video;
    this.#video.load();
    this.dispatchEvent(new CustomEvent('framechange', { detail: { frame: 0 } }));
  }

  show(frame) {
    const clamped = Math.max(0, Math.min(this.#total - 1, Math.round(frame)));
    if (clamped === this.#target && this.#shown === clamped) return;
    this.#target = clamped;
    this.dispatchEvent(new CustomEvent('framechange', { detail: { frame: clamped } }));
    this.#seek();
  }

  step(delta) {
    this.show(this.#target + delta);
  }

  /** mask: a canvas of mask size or null; points: [{x, y, label, object_id}] on the shown frame. */
  setLayers(layers) {
    this.#layers = { ...this.#layers, ...layers };
    this.#drawOverlay();
  }

  /** The point drawn within reach of a click at fractions (x, y), if any. */
  pointAt(x, y) {
    const rect = this.#overlayCanvas.getBoundingClientRect();
    let best = null;
    let bestDistance = POINT_RADIUS_CSS + 4;
    for (const p of this.#layers.points) {
      const d = Math.hypot((p.x - x) * rect.width, (p.y - y) * rect.height);
      if (d <= bestDistance) {
        best = p;
        bestDistance = d;
      }
    }
    return best;
  }

  #seek(again = false) {
    if (this.#video.readyState < 1 || this.#seekingTo !== null) return;
    const time = (this.#target + 0.5) / this.#fps;
    this.#seekingTo = this.#target;
    this.#seekId += 1;
    if (!again) this.#paintAttempts = 0;
    this.#stage.dataset.state = 'seeking';
    this.#video.currentTime = Math.min(time, Math.max(0, (this.#video.duration || time) - 1e-3));
  }

  #onSeeked() {
    this.#drawSeekedFrame(this.#seekId);
  }

  // On a busy machine Chromium can fire 'seeked' before the decoded frame is ready to paint, and drawImage then
  // paints nothing. A decoded frame is opaque, so a transparent canvas after the draw means "not yet": try again
  // shortly, and now and then seek again, rather than call an empty canvas drawn.
  #drawSeekedFrame(seekId) {
    const frame = this.#seekingTo;
    if (frame === null || seekId !== this.#seekId) return;
    if (!this.#paintVideoFrame() && ++this.#paintAttempts < PAINT_ATTEMPTS) {
      if (this.#paintAttempts % PAINT_ATTEMPTS_PER_SEEK === 0) {
        this.#seekingTo = null;
        this.#seek(true);
      } else {
        setTimeout(() => this.#drawSeekedFrame(seekId), PAINT_RETRY_MS);
      }
      return;
    }
    this.#seekingTo = null;
    this.#shown = frame;
    if (frame !== this.#target) {
      this.#seek();
      return;
    }
    this.#stage.dataset.state = 'ready';
    this.#stage.dataset.frame = String(frame);
    this.dispatchEvent(new CustomEvent('framedrawn', { detail: { frame } }));
  }

  /** Draws the video's current frame; false when the browser had no frame to give (the canvas stays transparent). */
  #paintVideoFrame() {
    const canvas = this.#frameCanvas;
    const ctx = canvas.getContext('2d');
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(this.#video, 0, 0, canvas.width, canvas.height);
    try {
      return ctx.getImageData(canvas.width >> 1, canvas.height >> 1, 1, 1).data[3] > 0;
    } catch {
      return true; // a video from another origin taints the canvas; its pixels cannot be checked
    }
  }

  #drawOverlay() {
    const canvas = this.#overlayCanvas;
    const ctx = canvas.getContext('2d');
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    if (this.#layers.mask) ctx.drawImage(this.#layers.mask, 0, 0, canvas.width, canvas.height);
    const rect = canvas.getBoundingClientRect();
    const scale = rect.width > 0 ? canvas.width / rect.width : 1;
    const r = POINT_RADIUS_CSS * scale;
    for (const p of this.#layers.points) {
      const cx = p.x * canvas.width;
      const cy = p.y * canvas.height;
      const include = p.label !== 0;
      ctx.beginPath();
      ctx.arc(cx, cy, r, 0, Math.PI * 2);
      ctx.fillStyle = include ? objectCss(p.object_id ?? 0) : '#111';
      ctx.fill();
      ctx.lineWidth = 2 * scale;
      ctx.strokeStyle = include ? '#111' : objectCss(p.object_id ?? 0);
      ctx.stroke();
      // A plus for include, a minus for exclude: readable without relying on colour.
      ctx.beginPath();
      ctx.moveTo(cx - r * 0.55, cy);
      ctx.lineTo(cx + r * 0.55, cy);
      if (include) {
        ctx.moveTo(cx, cy - r * 0.55);
        ctx.lineTo(cx, cy + r * 0.55);
      }
      ctx.strokeStyle = include ? '#111' : '#fff';
      ctx.stroke();
    }
  }

  #onClick(e) {
    const rect = this.#overlayCanvas.getBoundingClientRect();
    const x = Math.min(1, Math.max(0, (e.clientX - rect.left) / rect.width));
    const y = Math.min(1, Math.max(0, (e.clientY - rect.top) / rect.height));
    this.dispatchEvent(new CustomEvent('pointclick', { detail: { x, y, alt: e.altKey } }));
  }
}
