// The client's copy of a session's selection: the points on each marked frame and the masks that
// add/delete-selection answered for that frame. The server is the truth; this mirrors its answers.
import { api } from './api.js';

export class Selection extends EventTarget {
  #sessionId;
  #points = new Map(); // frame_index -> [{x, y, label, object_id}]
  #masks = new Map(); // frame_index -> rle_mask_list from the latest answer for that frame
  #version = 0;

  constructor(sessionId) {
    super();
    this.#sessionId = sessionId;
  }

  get sessionId() {
    return this.#sessionId;
  }

  /** Grows on every change, so a preview can tell that it was made from an older selection. */
  get version() {
    return this.#version;
  }

  pointsOn(frame) {
    return this.#points.get(frame) ?? [];
  }

  masksOn(frame) {
    return this.#masks.get(frame) ?? null;
  }

  markedFrames() {
    return [...this.#points.keys()].filter((f) => this.#points.get(f).length > 0).sort((a, b) => a - b);
  }

  objectsOn(frame) {
    return new Set(this.pointsOn(frame).map((p) => p.object_id));
  }

  pointCount(objectId) {
    let n = 0;
    for (const list of this.#points.values()) n += list.filter((p) => p.object_id === objectId).length;
    return n;
  }

  /** Adds one point (fractions of the frame); label 1 includes, 0 excludes. Returns the frame's mask list. */
  async add(frame, x, y, label, objectId) {
    const point = { x, y, label };
    const data = await api.addSelection(this.#sessionId, frame, [point], objectId);
    const list = this.#points.get(frame) ?? [];
    list.push({ ...point, object_id: objectId });
    this.#points.set(frame, list);
    return this.#answered(frame, data);
  }

  /** Deletes one point, sending exactly the coordinates that were added. */
  async remove(frame, point) {
    const wire = { x: point.x, y: point.y, label: point.label };
    const data = await api.deleteSelection(this.#sessionId, frame, [wire], point.object_id);
    const list = this.pointsOn(frame).filter((p) => p !== point);
    if (list.length) this.#points.set(frame, list);
    else this.#points.delete(frame);
    return this.#answered(frame, data);
  }

  async clear() {
    await api.clearSelection(this.#sessionId);
    this.#points.clear();
    this.#masks.clear();
    this.#changed(null);
  }

  #answered(frame, data) {
    const list = data?.res?.rle_mask_list ?? [];
    if (this.pointsOn(frame).length) this.#masks.set(frame, list);
    else this.#masks.delete(frame);
    this.#changed(frame);
    return list;
  }

  #changed(frame) {
    this.#version++;
    this.dispatchEvent(new CustomEvent('change', { detail: { frame } }));
  }
}
