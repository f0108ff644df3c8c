// The frame slider with a tick for every marked frame, plus previous/next buttons.
import { $, el } from './dom.js';
import { objectCss } from './masks.js';

export class Scrubber extends EventTarget {
  #slider = $('frame-slider');
  #marks = $('marks');
  #label = $('frame-label');
  #total = 1;
  #fps = 30;

  constructor() {
    super();
    this.#slider.addEventListener('input', () => this.#emit(Number(this.#slider.value)));
    $('prev-frame').addEventListener('click', () => this.#emit(Number(this.#slider.value) - 1));
    $('next-frame').addEventListener('click', () => this.#emit(Number(this.#slider.value) + 1));
  }

  open(totalFrames, fps) {
    this.#total = Math.max(1, totalFrames);
    this.#fps = fps > 0 ? fps : 30;
    this.#slider.max = String(this.#total - 1);
    this.setFrame(0);
    this.setMarks([]);
  }

  setFrame(frame) {
    this.#slider.value = String(frame);
    this.#slider.setAttribute('aria-valuetext', `frame ${frame} of ${this.#total}`);
    this.#label.textContent = `frame ${frame} · ${(frame / this.#fps).toFixed(2)} s`;
  }

  /** marks: [{frame, objectId}] */
  setMarks(marks) {
    const span = Math.max(1, this.#total - 1);
    this.#marks.replaceChildren(
      ...marks.map(({ frame, objectId }) => {
        const tick = el('span', { class: 'mark', title: `frame ${frame}` });
        tick.style.left = `${(frame / span) * 100}%`;
        tick.style.background = objectCss(objectId);
        return tick;
      }),
    );
  }

  #emit(frame) {
    const clamped = Math.max(0, Math.min(this.#total - 1, frame));
    this.dispatchEvent(new CustomEvent('seek', { detail: { frame: clamped } }));
  }
}
