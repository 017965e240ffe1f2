// How the single-page app on https://app.example.test calls the API at
// https://api.example.test. This file is the front end's, shipped already:
// the API has to work with it as it is.

const API = "https://api.example.test";
let csrfToken = null;

// Asks the API for a CSRF token (and the cookie that goes with it). Called
// when the app starts, and again after logging in and after logging out.
async function refreshCsrfToken() {
  const r = await fetch(`${API}/api/csrf/`, { credentials: "include" });
  csrfToken = (await r.json()).csrfToken;
}

async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (!["GET", "HEAD", "OPTIONS"].includes(method)) headers["X-CSRFToken"] = csrfToken;
  const r = await fetch(`${API}${path}`, {
    method,
    credentials: "include",
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return r;
}

export async function start() { await refreshCsrfToken(); }
export async function logIn(username, password) {
  const r = await api("POST", "/api/auth/login/", { username, password });
  await refreshCsrfToken();
  return r;
}
export async function logOut() {
  const r = await api("POST", "/api/auth/logout/");
  await refreshCsrfToken();
  return r;
}
export const me = () => api("GET", "/api/auth/me/");
export const listNotes = () => api("GET", "/api/notes/");
export const createNote = (title, body) => api("POST", "/api/notes/", { title, body });
export const updateNote = (id, fields) => api("PATCH", `/api/notes/${id}/`, fields);
export const archiveNote = (id) => api("POST", `/api/notes/${id}/archive/`);
export const deleteNote = (id) => api("DELETE", `/api/notes/${id}/`);
