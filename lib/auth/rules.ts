/**
 * The rules for what people choose at sign-up and when changing a password, each
 * answering with one sentence a person understands (or `null` when the input is fine).
 * Both are cheap and run before any password hashing.
 */
import { isCommonPassword } from "./common_passwords.ts";

/** Shortest password a person may choose (sign-up, password change). */
export const MIN_PASSWORD_LENGTH = 10;
/** Longest accepted password (bounds the hashing input). */
export const MAX_PASSWORD_LENGTH = 1024;
/** Shortest and longest username. */
export const USERNAME_LENGTH = { min: 3, max: 32 } as const;

const USERNAME = /^[a-z0-9_.-]{3,32}$/;
const MARKUP = /[<>&"'`]/;

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return true;
  }
  return false;
}

/** The canonical (lowercase) form of a valid username, or `null`. */
export function normalizeUsername(username: string): string | null {
  const lower = username.toLowerCase();
  return USERNAME.test(lower) ? lower : null;
}

/**
 * Why `username` cannot be used, or `null` when it can. Control characters and HTML get
 * a message of their own (they fail the character rule anyway).
 */
export function usernameProblem(username: string): string | null {
  if (normalizeUsername(username)) return null;
  if (hasControlCharacter(username)) {
    return "Username cannot contain control characters (such as tabs or line breaks)";
  }
  if (MARKUP.test(username)) {
    return "Username cannot contain HTML or quotes (< > & \" ' `)";
  }
  const { min, max } = USERNAME_LENGTH;
  if (username.length < min || username.length > max) {
    return `Username must be ${min} to ${max} characters long`;
  }
  return "Username may only use letters a-z, digits 0-9, _, . and - (no spaces)";
}

/**
 * Why `password` is not acceptable as a new password for `username`, or `null`: at least
 * {@linkcode MIN_PASSWORD_LENGTH} and at most {@linkcode MAX_PASSWORD_LENGTH} characters,
 * not a common password (see common_passwords.ts) and not the username itself.
 */
export function newPasswordProblem(password: string, username: string): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) {
    return `Password must have at least ${MIN_PASSWORD_LENGTH} characters`;
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    return `Password must have at most ${MAX_PASSWORD_LENGTH} characters`;
  }
  if (password.toLowerCase() === username.toLowerCase()) {
    return "Password cannot be the same as the username";
  }
  if (isCommonPassword(password)) {
    return "This password is on a list of commonly used passwords; choose another";
  }
  return null;
}
