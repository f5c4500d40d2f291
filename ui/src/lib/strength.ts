// The passphrase strength meter, computed in the page: the passphrase the user is typing never
// crosses to the app on each keystroke (issue #10, item 10). The same rule as the vault's
// `passphrase_strength` (src-tauri/vault/src/crypto/keys.rs), which decides when a vault is
// created; src-tauri/vault/tests/data/strength.json holds cases both are tested against.

/** Fewer characters than this is "too short" (the vault's MIN_PASSPHRASE_CHARS). */
export const MIN_PASSPHRASE_CHARS = 12;

const LOWER = /\p{Lowercase}/u;
const UPPER = /\p{Uppercase}/u;
const DIGIT = /[0-9]/;
const ALPHANUMERIC = /[\p{Alphabetic}\p{N}]/u;

/** 0 (too short) to 4 (strong), and the estimated bits it rests on. */
export function strength(p: string): { score: number; bits: number } {
  const chars = [...p];
  const n = chars.length;
  let pool = 0;
  if (chars.some((c) => LOWER.test(c))) pool += 26;
  if (chars.some((c) => UPPER.test(c))) pool += 26;
  if (chars.some((c) => DIGIT.test(c))) pool += 10;
  if (chars.some((c) => !ALPHANUMERIC.test(c))) pool += 20;
  if (chars.some((c) => c.codePointAt(0)! > 0x7f)) pool += 40;
  const distinct = new Set(chars).size;
  // Repetition ("aaaaaaaaaaaa") earns little: distinct characters count twice as much as length.
  const effective = Math.floor((n + 2 * distinct) / 3);
  const bits = Math.floor(effective * Math.log2(Math.max(pool, 1)));
  const score = n < MIN_PASSPHRASE_CHARS ? 0 : bits < 50 ? 1 : bits < 70 ? 2 : bits < 90 ? 3 : 4;
  return { score, bits };
}
