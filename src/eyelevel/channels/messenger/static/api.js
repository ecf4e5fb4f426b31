// The public REST API v1. Cookie sessions send the CSRF header; the widget sends its bearer token.

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && problem.detail) || `HTTP ${status}`);
    this.status = status;
    this.code = (problem && problem.code) || "internal_error";
    this.field = (problem && problem.field) || null;
  }

  // Worth trying again later (the server or the way to it had trouble), not a refusal.
  get transient() {
    return this.status >= 500 || this.status === 408 || this.status === 429;
  }
}

// No answer at all: offline, or the server is unreachable.
export class OfflineError extends Error {}

let bearer = null;

export function setBearer(token) {
  bearer = token || null;
}

export function hasBearer() {
  return bearer !== null;
}

export function bearerToken() {
  return bearer;
}

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)eyelevel_csrf=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

export function authHeaders(method = "GET") {
  if (bearer) return { Authorization: `Bearer ${bearer}` };
  return method === "GET" ? {} : { "x-csrf-token": csrfToken() };
}

export async function request(method, path, body) {
  const headers = { Accept: "application/json", ...authHeaders(method) };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(`/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: bearer ? "omit" : "same-origin",
    });
  } catch {
    throw new OfflineError("offline");
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export const get = (path) => request("GET", path);
export const post = (path, body) => request("POST", path, body ?? {});
export const put = (path, body) => request("PUT", path, body ?? {});
export const del = (path) => request("DELETE", path);

// multipart upload with progress; resolves with the created message
export function upload(path, form, onProgress) {
  const xhr = new XMLHttpRequest();
  const done = new Promise((resolve, reject) => {
    xhr.open("POST", `/api/v1${path}`);
    xhr.responseType = "json";
    xhr.withCredentials = !bearer;
    for (const [name, value] of Object.entries(authHeaders("POST"))) {
      xhr.setRequestHeader(name, value);
    }
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve(xhr.response);
      else reject(new ApiError(xhr.status, xhr.response));
    };
    xhr.onerror = () => reject(new OfflineError("offline"));
    xhr.onabort = () => reject(new DOMException("aborted", "AbortError"));
    xhr.send(form);
  });
  return { done, abort: () => xhr.abort() };
}

const blobs = new Map();

// Attachments need the same authentication as the API: fetched, then shown from a blob URL.
export function attachmentUrl(id, thumbnail = false) {
  const path = `/api/v1/attachments/${id}${thumbnail ? "/thumbnail" : ""}`;
  if (!blobs.has(path)) {
    const pending = fetch(path, {
      headers: authHeaders(),
      credentials: bearer ? "omit" : "same-origin",
    }).then(async (response) => {
      if (!response.ok) throw new ApiError(response.status, null);
      return URL.createObjectURL(await response.blob());
    });
    pending.catch(() => blobs.delete(path));
    blobs.set(path, pending);
  }
  return blobs.get(path);
}

export function forgetAttachments() {
  for (const pending of blobs.values()) {
    pending.then((url) => URL.revokeObjectURL(url)).catch(() => {});
  }
  blobs.clear();
}
