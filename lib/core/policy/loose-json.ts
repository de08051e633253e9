/**
 * Reading a parsed request body the way a loosely written handler would, for the list policy and the
 * webhook trigger: reading more loosely than the handler can only hold more requests to a list, which
 * fails closed.
 */

/** A plain object (not null, not an array). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * The elements of a list, also when it arrives as an object keyed by array index (`{"150": …}`): a form
 * parser makes one from `accounts[150][…]` past its `arrayLimit`, and a handler iterating it with
 * `Object.values` still acts on every entry. An object with any other key (a named map such as
 * `{"slack": …}` in a seller's own API) is not a list.
 */
export function itemsOf(list: unknown): readonly unknown[] {
  if (Array.isArray(list)) return list;
  if (!isObject(list)) return [];
  const keys = Object.keys(list);
  return keys.length > 0 && keys.every((key) => ARRAY_INDEX.test(key)) ? Object.values(list) : [];
}

const ARRAY_INDEX = /^(?:0|[1-9][0-9]{0,9})$/;
