// Tasks: the account's edit tasks from the list endpoint, polled while any is still running. Each
// entry is updated in place, so videos that are playing are not reloaded by the next poll.
import { api } from './api.js';
import { $, el, showError } from './dom.js';

const POLL_MS = 1500;
const ORIGINALS_KEY = 'roto.originals';

/** Remembers each session's normalized video, so a result can play beside its original. */
export function rememberOriginal(sessionId, url) {
  const map = JSON.parse(localStorage.getItem(ORIGINALS_KEY) ?? '{}');
  map[sessionId] = url;
  const entries = Object.entries(map).slice(-50);
  localStorage.setItem(ORIGINALS_KEY, JSON.stringify(Object.fromEntries(entries)));
}

function originalOf(sessionId) {
  if (!sessionId) return null;
  return JSON.parse(localStorage.getItem(ORIGINALS_KEY) ?? '{}')[sessionId] ?? null;
}

const running = (status) => status === 'submitted' || status === 'processing';

export class TaskList {
  #items = new Map(); // task_id -> {node, parts}
  #timer = 0;
  #loading = false;

  constructor() {
    $('refresh-tasks').addEventListener('click', () => this.refresh());
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden) this.refresh();
    });
  }

  /** A task just created: show it at once and start polling. */
  add(task) {
    this.#upsert(task, true);
    this.#schedule();
  }

  async refresh() {
    if (this.#loading) return;
    this.#loading = true;
    clearTimeout(this.#timer);
    try {
      const tasks = await api.listTasks(1, 30);
      showError($('tasks-error'), null);
      // The list is newest first; walk it oldest first so each new task lands on top.
      for (const task of [...tasks].reverse()) this.#upsert(task, !this.#items.has(task.task_id));
      if (tasks.some((t) => running(t.task_status))) this.#schedule();
    } catch (err) {
      showError($('tasks-error'), err);
    } finally {
      this.#loading = false;
      $('tasks-empty').hidden = this.#items.size > 0;
    }
  }

  #schedule() {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.refresh(), POLL_MS);
  }

  #upsert(task, isNew) {
    let item = this.#items.get(task.task_id);
    if (!item) {
      item = this.#create(task);
      this.#items.set(task.task_id, item);
      if (isNew) $('task-list').prepend(item.node);
      else $('task-list').append(item.node);
    }
    this.#update(item, task);
    $('tasks-empty').hidden = true;
  }

  #create(task) {
    const parts = {
      status: el('span', { class: 'status', role: 'status' }),
      progress: el('progress', { max: '100', 'aria-label': `Progress of task ${task.task_id}` }),
      percent: el('span', { class: 'muted small' }),
      time: el('span', { class: 'muted small' }),
      message: el('p', { class: 'task-msg', hidden: true }),
      media: el('div', { class: 'task-media', hidden: true }),
    };
    const external = task.task_info?.external_task_id;
    const node = el('li', { class: 'task', dataset: { taskId: task.task_id } },
      el('div', { class: 'task-head' },
        el('span', { class: 'task-id' }, task.task_id),
        external ? el('span', { class: 'muted small' }, external) : null,
        parts.status, parts.progress, parts.percent, parts.time),
      parts.message,
      parts.media);
    return { node, parts, hasResult: false };
  }

  #update(item, task) {
    const { parts } = item;
    const status = task.task_status;
    item.node.dataset.status = status;
    parts.status.textContent = status;
    parts.status.dataset.status = status;
    const progress = task.task_progress ?? (status === 'succeed' ? 100 : null);
    if (progress === null || progress === undefined) {
      parts.progress.removeAttribute('value');
      parts.percent.textContent = '';
    } else {
      parts.progress.value = progress;
      parts.percent.textContent = `${progress}%`;
    }
    parts.progress.hidden = status === 'failed';
    const created = new Date(task.created_at);
    const took = running(status) ? '' : ` · ${((task.updated_at - task.created_at) / 1000).toFixed(1)} s`;
    parts.time.textContent = `${created.toLocaleString()}${took}`;
    const failure = status === 'failed' ? task.task_status_msg || 'The task failed without a reason.' : '';
    parts.message.textContent = failure;
    parts.message.hidden = !failure;
    const video = task.task_result?.videos?.[0];
    if (status === 'succeed' && video?.url && !item.hasResult) {
      item.hasResult = true;
      this.#showResult(item, task, video);
    }
  }

  #showResult(item, task, video) {
    const original = originalOf(video.session_id ?? task.session_id);
    const result = el('video', {
      class: 'result-video', src: video.url, controls: true, muted: true, playsInline: true, preload: 'auto',
      'aria-label': `Result of task ${task.task_id}`,
    });
    const figures = [];
    let originalVideo = null;
    if (original) {
      originalVideo = el('video', {
        class: 'original-video', src: original, controls: true, muted: true, playsInline: true, preload: 'auto',
        'aria-label': `Original video of task ${task.task_id}`,
      });
      figures.push(el('figure', {}, originalVideo, el('figcaption', {}, 'Original')));
    }
    figures.push(el('figure', {}, result, el('figcaption', {}, `Result · ${video.duration ?? '?'} s`)));
    const actions = el('div', { class: 'task-actions' },
      el('a', { href: video.url, download: `roto-${task.task_id}.mp4` }, 'Download result'),
      originalVideo
        ? el('button', {
          type: 'button',
          onclick: () => {
            for (const v of [originalVideo, result]) {
              v.currentTime = 0;
              v.play();
            }
          },
        }, 'Play both from the start')
        : null);
    item.parts.media.replaceChildren(...figures);
    item.parts.media.hidden = false;
    item.node.append(actions);
  }
}
