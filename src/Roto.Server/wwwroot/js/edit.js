// Edit: the create-task form. Shows Kling's rules next to the fields and submits only what they allow.
import { api } from './api.js';
import { $, el, showError, setStatus, formatBytes } from './dom.js';

const PROMPT_LIMIT = 2500;

const IMAGE_RULES = {
  removal: { min: 0, max: 0, text: 'Removal takes no reference image' },
  swap: { min: 1, max: 1, text: 'Swap takes exactly 1 reference image' },
  addition: { min: 1, max: 2, text: 'Addition takes 1 or 2 reference images' },
};

const TEMPLATES = {
  removal: 'Delete the selected element from <<<video_1>>>',
  swap: 'Swap the selected element in <<<video_1>>> for the one in <<<image_1>>>',
  addition: 'Using the context of <<<video_1>>>, seamlessly add the element from <<<image_1>>>',
};

/** Kling accepts "5" for 2–5 s videos and "10" for 7–10 s ones; half a second of slack for rounding. */
export function durationFor(milliseconds) {
  return milliseconds <= 5500 ? '5' : '10';
}

export class EditPanel extends EventTarget {
  #facts = null;
  #selection = null;
  #images = []; // [{url, name, size}]
  #uploading = 0;

  constructor() {
    super();
    for (const radio of document.querySelectorAll('input[name=edit-mode]')) radio.addEventListener('change', () => this.#refresh());
    $('prompt').addEventListener('input', () => this.#refresh());
    for (const button of document.querySelectorAll('[data-insert]')) {
      button.addEventListener('click', () => this.#insert(button.dataset.insert));
    }
    $('use-template').addEventListener('click', () => {
      $('prompt').value = TEMPLATES[this.mode];
      this.#refresh();
    });
    $('image-file').addEventListener('change', (e) => this.#attach([...e.target.files]).finally(() => { e.target.value = ''; }));
    $('edit-form').addEventListener('submit', (e) => {
      e.preventDefault();
      this.#submit();
    });
    $('duration').addEventListener('change', () => this.#refresh());
  }

  get mode() {
    return document.querySelector('input[name=edit-mode]:checked').value;
  }

  open(facts, selection) {
    this.#facts = facts;
    this.#selection = selection;
    showError($('edit-error'), null);
    setStatus($('edit-status'), '');
    this.#refresh();
  }

  /** The selection changed (points added or removed). */
  selectionChanged() {
    this.#refresh();
  }

  #insert(text) {
    const prompt = $('prompt');
    const start = prompt.selectionStart ?? prompt.value.length;
    const end = prompt.selectionEnd ?? prompt.value.length;
    prompt.setRangeText(text, start, end, 'end');
    prompt.focus();
    this.#refresh();
  }

  async #attach(files) {
    showError($('edit-error'), null);
    for (const file of files) {
      if (this.#images.length + this.#uploading >= 2) {
        showError($('edit-error'), new Error('At most 2 reference images can be attached.'));
        break;
      }
      this.#uploading++;
      setStatus($('edit-status'), `Uploading ${file.name} (${formatBytes(file.size)})…`);
      try {
        const up = await api.upload(file);
        this.#images.push({ url: up.url, name: file.name, size: up.size ?? file.size });
        setStatus($('edit-status'), '');
      } catch (err) {
        setStatus($('edit-status'), '');
        showError($('edit-error'), err);
      } finally {
        this.#uploading--;
        this.#renderImages();
        this.#refresh();
      }
    }
  }

  #renderImages() {
    $('image-list').replaceChildren(
      ...this.#images.map((image, i) =>
        el('li', {},
          el('img', { src: image.url, alt: `image_${i + 1}: ${image.name}` }),
          el('span', {}, `image_${i + 1} · ${formatBytes(image.size)}`),
          el('button', {
            type: 'button',
            'aria-label': `Remove image_${i + 1} (${image.name})`,
            onclick: () => {
              this.#images.splice(i, 1);
              this.#renderImages();
              this.#refresh();
            },
          }, '×'),
        )),
    );
  }

  /** Every rule with its state: ok / bad (blocks submit) / hint (advice) / info. */
  #rules() {
    const mode = this.mode;
    const prompt = $('prompt').value;
    const n = this.#images.length;
    const rule = IMAGE_RULES[mode];
    const rules = [];
    const imagesOk = n >= rule.min && n <= rule.max;
    rules.push({ state: imagesOk ? 'ok' : 'bad', text: `${rule.text} (attached: ${n})` });
    const length = [...prompt].length;
    rules.push({
      state: length > 0 && length <= PROMPT_LIMIT ? 'ok' : 'bad',
      text: length === 0 ? 'A prompt is required' : `Prompt is at most ${PROMPT_LIMIT} characters (${length})`,
    });
    const marked = this.#selection?.markedFrames().length ?? 0;
    if (mode === 'addition') {
      rules.push({ state: 'info', text: 'A selection is optional for addition; placement is under More options' });
    } else {
      rules.push({ state: marked > 0 ? 'ok' : 'bad', text: `The element to ${mode === 'swap' ? 'swap' : 'remove'} is selected (${marked} marked frame${marked === 1 ? '' : 's'})` });
    }
    if (prompt && !prompt.includes('<<<video_1>>>')) rules.push({ state: 'hint', text: 'Mention the video as <<<video_1>>> in the prompt' });
    for (let i = 1; i <= n; i++) {
      if (prompt && !prompt.includes(`<<<image_${i}>>>`)) rules.push({ state: 'hint', text: `Mention <<<image_${i}>>> in the prompt` });
    }
    for (const match of prompt.matchAll(/<<<image_(\d+)>>>/g)) {
      if (Number(match[1]) > n) rules.push({ state: 'hint', text: `The prompt names <<<image_${match[1]}>>> but only ${n} image${n === 1 ? ' is' : 's are'} attached` });
    }
    if (this.#facts) {
      const duration = this.#duration();
      rules.push({ state: 'info', text: `Output duration "${duration}" s (the video is ${(this.#facts.original_duration / 1000).toFixed(1)} s)` });
    }
    return rules;
  }

  #duration() {
    return $('duration').value || durationFor(this.#facts?.original_duration ?? 5000);
  }

  #refresh() {
    const mode = this.mode;
    $('images-block').hidden = mode === 'removal' && this.#images.length === 0;
    $('placement').disabled = mode !== 'addition';
    const rules = this.#rules();
    $('rules').replaceChildren(...rules.map((r) => el('li', { class: r.state }, r.text)));
    $('prompt-count').textContent = `${[...$('prompt').value].length} / ${PROMPT_LIMIT}`;
    $('submit-task').disabled = !this.#facts || this.#uploading > 0 || rules.some((r) => r.state === 'bad');
  }

  #body() {
    const body = {
      model_name: 'kling-v1-6',
      session_id: this.#facts.session_id,
      edit_mode: this.mode,
      image_list: this.mode === 'removal' ? [] : this.#images.map((i) => ({ image: i.url })),
      prompt: $('prompt').value,
      mode: $('quality').value,
      duration: this.#duration(),
    };
    const negative = $('negative-prompt').value;
    if (negative) body.negative_prompt = negative;
    const external = $('external-id').value.trim();
    if (external) body.external_task_id = external;
    if (this.mode === 'addition') {
      const x = $('place-x').value;
      const y = $('place-y').value;
      const scale = $('place-scale').value;
      if (x !== '' || y !== '' || scale !== '') {
        body.placement = { x: Number(x || 0.5), y: Number(y || 0.5), scale: Number(scale || 0.4) };
      }
    }
    return body;
  }

  async #submit() {
    if (!this.#facts || $('submit-task').disabled) return;
    const button = $('submit-task');
    button.disabled = true;
    showError($('edit-error'), null);
    setStatus($('edit-status'), 'Creating the task…');
    try {
      const task = await api.createTask(this.#body());
      setStatus($('edit-status'), `Task ${task.task_id} ${task.task_status}.`);
      this.dispatchEvent(new CustomEvent('created', { detail: { task } }));
    } catch (err) {
      setStatus($('edit-status'), '');
      showError($('edit-error'), err);
    } finally {
      this.#refresh();
    }
  }
}
