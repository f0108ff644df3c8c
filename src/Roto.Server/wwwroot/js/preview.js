// Preview: asks the server to track the selection through the video, plays the overlay video, shows the
// cover, and reads tracking_output (one mask list per frame) for the per-frame views.
import { api, fetchJson } from './api.js';
import { $, showError, setStatus } from './dom.js';
import { objectCss, paintMaskList } from './masks.js';
import { rleArea } from './rle.js';

const CACHE_SIZE = 6;

export class PreviewPanel extends EventTarget {
  #frames = null; // frame_index -> rle_mask_list
  #areas = null; // frame_index -> Map(object_id -> fraction of the frame)
  #madeFrom = -1; // selection version the preview was made from
  #cache = new Map(); // frame -> Promise<canvas|null>, least recently used first
  #current = 0;
  #marked = [];
  #selection = null;

  constructor() {
    super();
    $('preview-button').addEventListener('click', () => this.run());
    const coverage = $('coverage');
    coverage.addEventListener('click', (e) => {
      if (!this.#frames) return;
      const rect = coverage.getBoundingClientRect();
      const frame = Math.round(((e.clientX - rect.left) / rect.width) * (this.#frames.length - 1));
      this.dispatchEvent(new CustomEvent('seek', { detail: { frame } }));
    });
    new ResizeObserver(() => this.#drawCoverage()).observe(coverage);
  }

  reset(selection) {
    this.#selection = selection;
    this.#frames = null;
    this.#areas = null;
    this.#cache.clear();
    $('preview-result').hidden = true;
    $('preview-video').removeAttribute('src');
    $('preview-cover').removeAttribute('src');
    showError($('preview-error'), null);
    setStatus($('preview-status'), '');
  }

  /** True when tracked masks exist and still match the selection. */
  get current() {
    return this.#frames !== null && this.#selection !== null && this.#madeFrom === this.#selection.version;
  }

  async run() {
    const selection = this.#selection;
    if (!selection) return;
    const button = $('preview-button');
    button.disabled = true;
    showError($('preview-error'), null);
    setStatus($('preview-status'), 'Tracking the selection through every frame…');
    const started = performance.now();
    try {
      const version = selection.version;
      const data = await api.previewSelection(selection.sessionId);
      const res = data.res;
      const tracking = await fetchJson(res.tracking_output);
      this.#load(tracking);
      this.#madeFrom = version;
      const video = $('preview-video');
      video.src = res.video;
      $('preview-cover').src = res.video_cover;
      $('preview-result').hidden = false;
      setStatus($('preview-status'), `Tracked ${tracking.frames.length} frames in ${((performance.now() - started) / 1000).toFixed(1)} s.`);
      this.#drawCoverage();
      this.showFrame(this.#current);
      this.dispatchEvent(new CustomEvent('loaded'));
    } catch (err) {
      setStatus($('preview-status'), '');
      showError($('preview-error'), err);
    } finally {
      button.disabled = false;
    }
  }

  /** Called when the selection changes: tracked masks no longer describe it. */
  selectionChanged() {
    if (this.#frames && !this.current) setStatus($('preview-status'), 'The selection changed since this preview: preview again.');
    this.#drawCoverage();
  }

  setMarked(frames) {
    this.#marked = frames;
    this.#drawCoverage();
  }

  /** The tracked masks of one frame as an overlay canvas, or null (none, or out of date). */
  overlayFor(frame) {
    if (!this.current || !this.#frames?.[frame]) return Promise.resolve(null);
    let entry = this.#cache.get(frame);
    if (entry) {
      this.#cache.delete(frame);
    } else {
      entry = paintMaskList(this.#frames[frame], 95);
      if (this.#cache.size >= CACHE_SIZE) this.#cache.delete(this.#cache.keys().next().value);
    }
    this.#cache.set(frame, entry);
    return entry;
  }

  async showFrame(frame) {
    this.#current = frame;
    this.#drawCoverage();
    if (!this.#frames) return;
    const canvas = $('tracked-mask');
    const list = this.#frames[frame] ?? [];
    $('tracked-caption').textContent = `Tracked mask, frame ${frame}` + (this.current ? '' : ' (out of date)');
    const painted = await paintMaskList(list, 255);
    if (this.#current !== frame) return;
    const ctx = canvas.getContext('2d');
    if (painted) {
      canvas.width = painted.width;
      canvas.height = painted.height;
      ctx.drawImage(painted, 0, 0);
    } else {
      ctx.clearRect(0, 0, canvas.width, canvas.height);
    }
  }

  #load(tracking) {
    const frames = new Array(tracking.total_frame ?? tracking.frames.length).fill(null);
    const areas = new Array(frames.length).fill(null);
    const pixels = tracking.width * tracking.height || 1;
    for (const f of tracking.frames) {
      frames[f.frame_index] = f.rle_mask_list;
      const byObject = new Map();
      for (const m of f.rle_mask_list) byObject.set(m.object_id, rleArea(m.rle_mask) / pixels);
      areas[f.frame_index] = byObject;
    }
    this.#frames = frames;
    this.#areas = areas;
    this.#cache.clear();
  }

  #drawCoverage() {
    const canvas = $('coverage');
    if (!this.#areas || canvas.clientWidth === 0) return;
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(canvas.clientWidth * dpr);
    canvas.height = Math.round(canvas.clientHeight * dpr);
    const ctx = canvas.getContext('2d');
    const { width, height } = canvas;
    ctx.clearRect(0, 0, width, height);
    const n = this.#areas.length;
    const xOf = (i) => (n <= 1 ? width / 2 : (i / (n - 1)) * (width - 2) + 1);
    let peak = 0;
    const objects = new Set();
    for (const a of this.#areas) for (const [id, v] of a ?? []) { objects.add(id); peak = Math.max(peak, v); }
    const yOf = (v) => height - 3 - (peak > 0 ? (v / peak) * (height - 8) : 0);
    for (const frame of this.#marked) {
      ctx.fillStyle = '#ffffff30';
      ctx.fillRect(xOf(frame) - 1, 0, 2 * dpr, height);
    }
    for (const id of objects) {
      ctx.beginPath();
      this.#areas.forEach((a, i) => {
        const y = yOf(a?.get(id) ?? 0);
        if (i === 0) ctx.moveTo(xOf(i), y);
        else ctx.lineTo(xOf(i), y);
      });
      ctx.strokeStyle = objectCss(id, this.current ? 1 : 0.4);
      ctx.lineWidth = 1.5 * dpr;
      ctx.stroke();
    }
    ctx.fillStyle = '#fff';
    ctx.fillRect(xOf(this.#current) - dpr, 0, 2 * dpr, height);
    const here = [...(this.#areas[this.#current] ?? new Map())]
      .map(([id, v]) => `element ${id + 1}: ${(v * 100).toFixed(2)}%`).join(', ');
    $('coverage-caption').textContent =
      `Tracked mask area per frame (peak ${(peak * 100).toFixed(2)}% of the frame); frame ${this.#current}: ${here || 'no mask'}. Click to show a frame above.`;
  }
}
