// Roto Studio: wires the panels together. Everything goes through Roto's public API (api.js).
import { api, loadApiKey, saveApiKey } from './api.js';
import { $, el, showError, setStatus, formatBytes } from './dom.js';
import { EditPanel } from './edit.js';
import { FrameView } from './frameview.js';
import { objectCss, paintMaskList } from './masks.js';
import { PreviewPanel } from './preview.js';
import { rleArea } from './rle.js';
import { Scrubber } from './scrubber.js';
import { Selection } from './selection.js';
import { TaskList, rememberOriginal } from './tasks.js';

const frameView = new FrameView({
  video: $('source-video'),
  frameCanvas: $('frame-canvas'),
  overlayCanvas: $('overlay-canvas'),
  stage: $('stage'),
});
const scrubber = new Scrubber();
const preview = new PreviewPanel();
const edit = new EditPanel();
const tasks = new TaskList();

let facts = null;
let selection = null;
let objects = [0];
let activeObject = 0;
let queue = Promise.resolve(); // selection calls run one after another, in click order
let pendingCalls = 0;
const paintedMasks = new Map(); // frame -> {list, canvas promise}

// --- API key -------------------------------------------------------------------------------------

$('api-key').value = loadApiKey();
setStatus($('key-status'), loadApiKey() ? 'Key saved in this browser.' : 'No key yet.');
$('key-form').addEventListener('submit', (e) => {
  e.preventDefault();
  saveApiKey($('api-key').value.trim());
  setStatus($('key-status'), loadApiKey() ? 'Key saved in this browser.' : 'Key removed.');
  tasks.refresh();
});

// --- Video source ----------------------------------------------------------------------------------

$('video-file').addEventListener('change', async (e) => {
  const file = e.target.files[0];
  if (!file) return;
  showError($('source-error'), null);
  setStatus($('source-status'), `Uploading ${file.name} (${formatBytes(file.size)})…`);
  try {
    const upload = await api.upload(file);
    $('video-url').value = upload.url;
    await openVideo(upload.url);
  } catch (err) {
    setStatus($('source-status'), '');
    showError($('source-error'), err);
  }
});

$('url-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const url = $('video-url').value.trim();
  if (url) openVideo(url);
});

async function openVideo(url) {
  showError($('source-error'), null);
  setStatus($('source-status'), 'Opening the video (checking and normalizing it)…');
  try {
    const data = await api.initSelection(url);
    setStatus($('source-status'), 'Session open.');
    startSession(data);
  } catch (err) {
    setStatus($('source-status'), '');
    showError($('source-error'), err);
  }
}

function startSession(data) {
  facts = data;
  rememberOriginal(data.session_id, data.normalized_video);
  $('fact-size').textContent = `${data.width} × ${data.height}`;
  $('fact-fps').textContent = `${Number(data.fps).toFixed(3).replace(/\.?0+$/, '')} fps`;
  $('fact-frames').textContent = String(data.total_frame);
  $('fact-duration').textContent = `${(data.original_duration / 1000).toFixed(2)} s`;
  $('fact-session').textContent = data.session_id;
  $('facts').hidden = false;
  for (const id of ['select-panel', 'preview-panel', 'edit-panel']) $(id).hidden = false;

  selection = new Selection(data.session_id);
  selection.addEventListener('change', (e) => onSelectionChanged(e.detail.frame));
  objects = [0];
  activeObject = 0;
  paintedMasks.clear();
  showError($('select-error'), null);
  setStatus($('select-status'), '');
  renderElements();
  renderMarked();
  scrubber.open(data.total_frame, data.fps);
  frameView.open(data);
  preview.reset(selection);
  edit.open(data, selection);
}

// --- Frame view --------------------------------------------------------------------------------------

scrubber.addEventListener('seek', (e) => frameView.show(e.detail.frame));
preview.addEventListener('seek', (e) => frameView.show(e.detail.frame));
preview.addEventListener('loaded', () => refreshOverlay());
$('show-tracked').addEventListener('change', () => refreshOverlay());

frameView.addEventListener('framechange', (e) => {
  scrubber.setFrame(e.detail.frame);
  refreshOverlay();
  preview.showFrame(e.detail.frame);
});
frameView.addEventListener('videoerror', () => {
  showError($('select-error'), new Error('The browser could not play the normalized video.'));
});

document.addEventListener('keydown', (e) => {
  if (!facts || (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight')) return;
  const target = e.target;
  // Form fields keep their own arrow keys; the slider moves itself and reports through 'input'.
  if (target.closest('input, textarea, select, [contenteditable]')) return;
  if (target instanceof HTMLVideoElement) return;
  e.preventDefault();
  const step = e.shiftKey ? 10 : 1;
  frameView.step(e.key === 'ArrowLeft' ? -step : step);
});

function maskCanvasFor(frame) {
  const list = selection?.masksOn(frame);
  if (!list) return null;
  let painted = paintedMasks.get(frame);
  if (!painted || painted.list !== list) {
    painted = { list, canvas: paintMaskList(list) };
    paintedMasks.set(frame, painted);
  }
  return painted.canvas;
}

/** Redraws points and masks for the frame on screen: its own masks if marked, else tracked ones. */
async function refreshOverlay() {
  if (!selection) return;
  const frame = frameView.frame;
  const points = selection.pointsOn(frame);
  frameView.setLayers({ points, mask: null });
  const own = maskCanvasFor(frame);
  const mask = own ? await own : $('show-tracked').checked ? await preview.overlayFor(frame) : null;
  if (frameView.frame !== frame) return;
  frameView.setLayers({ mask, points: selection.pointsOn(frame) });
  $('stage').dataset.maskSource = own ? 'selection' : mask ? 'tracking' : 'none';
}

frameView.addEventListener('pointclick', (e) => {
  if (!selection) return;
  const { x, y, alt } = e.detail;
  const frame = frameView.frame;
  const hit = frameView.pointAt(x, y);
  const label = alt ? 0 : Number(document.querySelector('input[name=point-mode]:checked').value);
  const objectId = activeObject;
  const current = selection;
  enqueue(async () => {
    if (current !== selection) return;
    if (hit) {
      await selection.remove(frame, hit);
      setStatus($('select-status'), `Deleted a point on frame ${frame}.`);
    } else {
      const list = await selection.add(frame, x, y, label, objectId);
      const mine = list.find((m) => m.object_id === objectId);
      const share = mine?.rle_mask ? rleArea(mine.rle_mask) / (facts.width * facts.height) : 0;
      setStatus($('select-status'),
        `Frame ${frame}: element ${objectId + 1} covers ${(share * 100).toFixed(2)}% of the frame.`);
    }
  });
});

function enqueue(work) {
  pendingCalls++;
  $('stage-busy').hidden = false;
  queue = queue
    .then(async () => {
      showError($('select-error'), null);
      try {
        await work();
      } catch (err) {
        showError($('select-error'), err);
      }
    })
    .finally(() => {
      pendingCalls--;
      $('stage-busy').hidden = pendingCalls === 0;
    });
}

$('clear-all').addEventListener('click', () => {
  enqueue(async () => {
    await selection.clear();
    setStatus($('select-status'), 'All selections cleared.');
  });
});

function onSelectionChanged(frame) {
  if (frame === null) paintedMasks.clear();
  preview.selectionChanged();
  edit.selectionChanged();
  renderElements();
  renderMarked();
  refreshOverlay();
}

// --- Elements and marked frames ------------------------------------------------------------------

$('add-element').addEventListener('click', () => {
  activeObject = Math.max(...objects) + 1;
  objects.push(activeObject);
  renderElements();
  refreshOverlay();
});

function renderElements() {
  $('element-list').replaceChildren(
    ...objects.map((id) => {
      const swatch = el('span', { class: 'swatch', 'aria-hidden': 'true' });
      swatch.style.background = objectCss(id);
      const count = selection ? selection.pointCount(id) : 0;
      return el('button', {
        type: 'button',
        class: 'chip',
        'aria-pressed': String(id === activeObject),
        'aria-label': `Element ${id + 1} (object_id ${id}), ${count} point${count === 1 ? '' : 's'}`,
        dataset: { objectId: String(id) },
        onclick: () => {
          activeObject = id;
          renderElements();
        },
      }, swatch, `Element ${id + 1}`, el('span', { class: 'muted' }, `${count} pt`));
    }),
  );
}

function renderMarked() {
  const frames = selection ? selection.markedFrames() : [];
  const marks = [];
  for (const frame of frames) {
    for (const id of selection.objectsOn(frame)) marks.push({ frame, objectId: id });
  }
  scrubber.setMarks(marks);
  preview.setMarked(frames);
  $('marked-summary').textContent = frames.length
    ? `Marked frames (${frames.length} of 10):`
    : 'No frame marked yet.';
  $('marked-frames').replaceChildren(
    ...frames.map((frame) => {
      const swatches = [...selection.objectsOn(frame)].map((id) => {
        const s = el('span', { class: 'swatch', 'aria-hidden': 'true' });
        s.style.background = objectCss(id);
        return s;
      });
      const n = selection.pointsOn(frame).length;
      return el('li', {},
        el('button', {
          type: 'button', class: 'chip',
          'aria-label': `Go to frame ${frame} (${n} point${n === 1 ? '' : 's'})`,
          onclick: () => frameView.show(frame),
        }, ...swatches, `frame ${frame}`));
    }),
  );
}

// --- Tasks ---------------------------------------------------------------------------------------

edit.addEventListener('created', (e) => tasks.add(e.detail.task));
if (loadApiKey()) tasks.refresh();
else $('api-key').focus();
