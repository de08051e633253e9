import { declaredCharset } from '../body/declared-charset.js';
import { isStrictJsonError, parseStrictJson } from '../body/strict-json.parser.js';

/**
 * An unsigned (or badly signed) request's body as the list policy needs it: to find the operation it
 * invokes and the webhook-registration trigger (§c.1 P-a, §d.2).
 *
 * - `none`: no body, or a body that is not JSON and does not pretend to be.
 * - `json`: the value, read at least as permissively as an application's body parser would read it
 *   (declared charset honoured, a byte order mark skipped).
 * - `unreadable`: a body the application may well parse but we cannot read unambiguously (invalid or
 *   duplicate-key JSON, an unknown charset). The caller fails closed on it: an unsigned request must not
 *   reach a required operation, or register a webhook, because the policy read its body differently.
 */
export type ApplicationBody =
  | { readonly kind: 'none' }
  | { readonly kind: 'json'; readonly value: unknown }
  | { readonly kind: 'unreadable'; readonly reason: string };

const NONE: ApplicationBody = { kind: 'none' };

/** Reads `body` as JSON in the charset `contentType` declares (UTF-8 by default). Never throws. */
export function readBodyLikeTheApplication(
  body: Uint8Array | undefined,
  contentType: string | undefined,
): ApplicationBody {
  if (body === undefined || body.length === 0) return NONE;
  const charset = charsetToRead(contentType);
  if (charset === undefined) return { kind: 'unreadable', reason: 'ambiguous charset declaration' };
  let text: string;
  try {
    // Not fatal, like body parsers (bad bytes become U+FFFD); a leading BOM of the charset is skipped.
    text = new TextDecoder(charset).decode(body);
  } catch {
    return { kind: 'unreadable', reason: 'unsupported charset' };
  }
  try {
    // Strict: duplicate keys are ambiguous (parsers disagree on which one wins), so they are unreadable.
    return { kind: 'json', value: parseStrictJson(text) };
  } catch (error) {
    if (!isStrictJsonError(error)) throw error;
    return claimsToBeJson(contentType, text)
      ? { kind: 'unreadable', reason: `not strict JSON (${error.reason})` }
      : NONE;
  }
}

/** A JSON media type, no media type at all, or text that starts like a JSON object or array. */
function claimsToBeJson(contentType: string | undefined, text: string): boolean {
  if (contentType === undefined) return true;
  const mediaType = (contentType.split(';', 1)[0] ?? '').trim().toLowerCase();
  if (mediaType === '') return true;
  if (mediaType === 'application/json' || mediaType.endsWith('+json')) return true;
  const first = text.trimStart().charCodeAt(0);
  return first === 0x7b /* { */ || first === 0x5b /* [ */;
}

/**
 * The charset an application would decode the body in: the declared one, UTF-8 when none is declared,
 * and for a declaration parsers may read differently (`charset = utf-8`, two charsets) the one reading
 * they all arrive at, else undefined (the caller fails closed). A lenient parser that finds no value
 * falls back to UTF-8, as Express does.
 */
function charsetToRead(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return 'utf-8';
  const declared = declaredCharset(contentType);
  if (declared.kind === 'none') return 'utf-8';
  if (declared.kind === 'charset') return declared.value;
  const readings = new Set(
    declared.candidates.map((candidate) =>
      candidate === '' || candidate === 'utf8' ? 'utf-8' : candidate,
    ),
  );
  return readings.size === 1 ? [...readings][0] : undefined;
}
