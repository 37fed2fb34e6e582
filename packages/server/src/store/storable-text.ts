/** Text either engine can hold in `text` and `jsonb`: NUL and lone UTF-16 surrogates become U+FFFD. */
export function storableText(text: string): string {
  const noNul = text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text;
  return noNul.isWellFormed() ? noNul : noNul.toWellFormed();
}
