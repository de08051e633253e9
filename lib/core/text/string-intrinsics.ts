/**
 * `String.prototype` methods captured at load, for code that runs on every request: call them with
 * `.call`, e.g. `charCodeAt.call(text, i)` instead of `text.charCodeAt(i)`.
 *
 * Why: V8 inlines a method call on a string primitive only while `String.prototype` keeps its initial
 * map. Any module in the process that subclasses `String` changes that map for good, and from then on
 * every `text.charCodeAt(i)` is a generic property lookup. This is not hypothetical: ioredis 6, which
 * our Redis replay store uses, declares `class VerbatimString extends String` when it loads. Measured on
 * the 2-core development VM: a `charCodeAt` loop 7× slower and the verifier's own work per request about
 * 45 % slower in any process that has loaded ioredis.
 *
 * Each module takes its own copies, `const { charCodeAt } = STRING_METHODS;`: V8 inlines a call through
 * a module's own constant, but not through an imported binding (measured: 4× slower than the method
 * syntax). So copied, a call is as fast as the method syntax in a clean process, and stays that fast.
 */
export const STRING_METHODS = Object.freeze({
  charCodeAt: String.prototype.charCodeAt,
  slice: String.prototype.slice,
  startsWith: String.prototype.startsWith,
  indexOf: String.prototype.indexOf,
  trim: String.prototype.trim,
  toUpperCase: String.prototype.toUpperCase,
  toLowerCase: String.prototype.toLowerCase,
});
