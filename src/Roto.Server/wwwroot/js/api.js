// A small client for Roto's public API. Every call goes through `request`, which adds the bearer key
// and turns Roto's envelope {code, message, request_id, data} into either `data` or an ApiError.

const KEY_STORAGE = 'roto.apiKey';

/** An error answered by the server (its envelope), or a network failure (code -1). */
export class ApiError extends Error {
  constructor(message, { code = -1, httpStatus = 0, requestId = '' } = {}) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.httpStatus = httpStatus;
    this.requestId = requestId;
  }
}

export function loadApiKey() {
  return localStorage.getItem(KEY_STORAGE) ?? '';
}

export function saveApiKey(key) {
  if (key) localStorage.setItem(KEY_STORAGE, key);
  else localStorage.removeItem(KEY_STORAGE);
}

const MULTI = '/v1/videos/multi-elements';

async function readEnvelope(response) {
  const text = await response.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ApiError(`HTTP ${response.status}: the server did not answer with JSON`, { httpStatus: response.status });
  }
  if (body.code !== 0) {
    throw new ApiError(body.message || `HTTP ${response.status}`, {
      code: body.code,
      httpStatus: response.status,
      requestId: body.request_id ?? '',
    });
  }
  return body.data;
}

async function request(method, path, { json, form } = {}) {
  const headers = { Authorization: `Bearer ${loadApiKey()}` };
  let body;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (form) {
    body = form;
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body });
  } catch (e) {
    throw new ApiError(`Network error: ${e.message}`);
  }
  return readEnvelope(response);
}

const post = (path, json) => request('POST', path, { json });

export const api = {
  /** POST /v1/uploads (multipart `file`) → {upload_id, url, size, content_type} */
  upload(file) {
    const form = new FormData();
    form.append('file', file, file.name);
    return request('POST', '/v1/uploads', { form });
  },
  initSelection(videoUrl) {
    return post(`${MULTI}/init-selection`, { video_id: '', video_url: videoUrl });
  },
  /** points: [{x, y, label}] in fractions of the frame; objectId is Roto's `object_id` extension. */
  addSelection(sessionId, frameIndex, points, objectId) {
    return post(`${MULTI}/add-selection`, { session_id: sessionId, frame_index: frameIndex, points, object_id: objectId });
  },
  /** The points must be exactly those sent to add-selection. */
  deleteSelection(sessionId, frameIndex, points, objectId) {
    return post(`${MULTI}/delete-selection`, { session_id: sessionId, frame_index: frameIndex, points, object_id: objectId });
  },
  clearSelection(sessionId) {
    return post(`${MULTI}/clear-selection`, { session_id: sessionId });
  },
  previewSelection(sessionId) {
    return post(`${MULTI}/preview-selection`, { session_id: sessionId });
  },
  createTask(body) {
    return post(MULTI, body);
  },
  getTask(id) {
    return request('GET', `${MULTI}/${encodeURIComponent(id)}`);
  },
  listTasks(pageNum = 1, pageSize = 30) {
    return request('GET', `${MULTI}?pageNum=${pageNum}&pageSize=${pageSize}`);
  },
};

/** Fetches a signed result file (e.g. tracking_output JSON); these URLs need no key. */
export async function fetchJson(url) {
  let response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new ApiError(`Network error: ${e.message}`);
  }
  if (!response.ok) throw new ApiError(`HTTP ${response.status} fetching ${url}`, { httpStatus: response.status });
  return response.json();
}

/** One line that names everything a person needs to report an error: HTTP status, code, message, request id. */
export function describeError(err) {
  if (!(err instanceof ApiError)) return String(err?.message ?? err);
  const parts = [];
  if (err.httpStatus) parts.push(`HTTP ${err.httpStatus}`);
  if (err.code !== -1) parts.push(`code ${err.code}`);
  parts.push(err.message);
  if (err.requestId) parts.push(`request ${err.requestId}`);
  return parts.join(' · ');
}
