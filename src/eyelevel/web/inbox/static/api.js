// The verbs the messenger's API client has no shortcut for.
import { request } from "./messenger/api.js";

export { request };
export const put = (path, body) => request("PUT", path, body ?? {});
export const patch = (path, body) => request("PATCH", path, body ?? {});
export const del = (path, body) => request("DELETE", path, body);
