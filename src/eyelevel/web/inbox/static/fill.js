// Replaces an element's children; like h(), it skips null and false and flattens arrays.
import { append, clear } from "./messenger/dom.js";

export function fill(el, ...children) {
  clear(el);
  return append(el, children);
}
