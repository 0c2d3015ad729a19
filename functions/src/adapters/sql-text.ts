/**
 * Just enough of PostgreSQL's lexical structure to find what lies outside
 * string literals, quoted identifiers, dollar-quoted bodies and comments:
 * statement-separating semicolons and parameter placeholders. Used by the
 * Data API adapter, which sends one statement per call and named parameters.
 */
export interface SqlPiece {
  /** `code`: plain SQL; `literal`: a quoted string, identifier, dollar-quoted body or comment, kept verbatim. */
  readonly kind: 'code' | 'literal';
  readonly text: string;
}

export function lexSql(sql: string): SqlPiece[] {
  const pieces: SqlPiece[] = [];
  let code = '';
  let i = 0;
  const flush = () => {
    if (code) pieces.push({ kind: 'code', text: code });
    code = '';
  };
  const literal = (end: number) => {
    flush();
    pieces.push({ kind: 'literal', text: sql.slice(i, end) });
    i = end;
  };
  while (i < sql.length) {
    const c = sql[i];
    const next = sql[i + 1];
    if (c === "'" || c === '"') {
      // Doubled quotes escape; E'' strings also take backslash escapes.
      const escapes = c === "'" && /[eE]$/.test(code) && !/\w[eE]$/.test(code);
      let j = i + 1;
      while (j < sql.length) {
        if (escapes && sql[j] === '\\') j += 2;
        else if (sql[j] === c && sql[j + 1] === c) j += 2;
        else if (sql[j] === c) break;
        else j += 1;
      }
      literal(Math.min(j + 1, sql.length));
    } else if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      literal(end === -1 ? sql.length : end);
    } else if (c === '/' && next === '*') {
      let depth = 0;
      let j = i;
      while (j < sql.length) {
        if (sql[j] === '/' && sql[j + 1] === '*') {
          depth += 1;
          j += 2;
        } else if (sql[j] === '*' && sql[j + 1] === '/') {
          depth -= 1;
          j += 2;
          if (depth === 0) break;
        } else j += 1;
      }
      literal(j);
    } else if (c === '$' && !/\w$/.test(code)) {
      const tag = /^\$(?:[A-Za-z_][\w]*)?\$/.exec(sql.slice(i));
      if (tag) {
        const end = sql.indexOf(tag[0], i + tag[0].length);
        literal(end === -1 ? sql.length : end + tag[0].length);
      } else {
        code += c;
        i += 1;
      }
    } else {
      code += c;
      i += 1;
    }
  }
  flush();
  return pieces;
}

/** The statements of a script, without empty ones (a trailing `;`, comments only). */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let current = '';
  let meaningful = false;
  for (const piece of lexSql(sql)) {
    if (piece.kind === 'literal') {
      current += piece.text;
      if (!/^(--|\/\*)/.test(piece.text)) meaningful = true;
      continue;
    }
    const parts = piece.text.split(';');
    parts.forEach((part, index) => {
      if (index > 0) {
        if (meaningful) statements.push(current.trim());
        current = '';
        meaningful = false;
      }
      current += part;
      if (part.trim()) meaningful = true;
    });
  }
  if (meaningful) statements.push(current.trim());
  return statements;
}

/** Rewrites `$1`, `$2`... outside literals through `rename(index)` (1-based). */
export function renamePlaceholders(sql: string, rename: (index: number) => string): string {
  return lexSql(sql)
    .map((piece) =>
      piece.kind === 'literal' ? piece.text : piece.text.replace(/\$(\d+)/g, (_, n: string) => rename(Number(n))),
    )
    .join('');
}
