/**
 * The reference server's default `play` handler: a tiny integer-arithmetic language.
 *
 * Language:
 * ```
 * program   := statement (';' statement)*        empty statements are allowed (`1;;2;`)
 * statement := 'let' NAME '=' expr | expr
 * expr      := term (('+' | '-') term)*
 * term      := unary (('*' | '/' | '%') unary)*
 * unary     := '-' unary | primary
 * primary   := INTEGER | NAME | '(' expr ')'
 * NAME      := [A-Za-z_][A-Za-z0-9_]*             (`let` is reserved)
 * INTEGER   := [0-9]+
 * ```
 * Values are arbitrary-precision integers (BigInt) bounded in size, so no result is ever a
 * rounded float. `/` truncates toward zero and `%` takes the sign of the dividend (as in C,
 * Rust and JavaScript BigInt). The script's result is the value of its last non-empty
 * statement (a `let` evaluates to the value it binds), written in decimal.
 *
 * The whole script is parsed before anything is evaluated, so a syntax error anywhere is
 * reported even if an earlier statement would fail at run time. Every limit exists because the
 * server runs scripts sent by strangers: length and nesting bound parse time and stack depth,
 * steps bound evaluation time, and bits bound memory (repeated squaring grows numbers fast).
 */
import { CircleWsError, InvalidArgumentError } from '../errors.js';

/** What went wrong in a script: its syntax, its evaluation, or one of the safety limits. */
export type ScriptErrorKind = 'syntax' | 'runtime' | 'limit';

/** A script could not be evaluated. `position` is a 0-based offset into the script, when known. */
export class ScriptError extends CircleWsError {
  override readonly name: string = 'ScriptError';
  readonly kind: ScriptErrorKind;
  readonly position: number | undefined;
  readonly line: number | undefined;
  readonly column: number | undefined;
  constructor(kind: ScriptErrorKind, message: string, where?: { position: number; line: number; column: number }) {
    super('SCRIPT_ERROR', where ? `${message} at line ${where.line}, column ${where.column}` : message);
    this.kind = kind;
    this.position = where?.position;
    this.line = where?.line;
    this.column = where?.column;
  }
}

/** Safety limits of {@link evaluateScript}. */
export interface EvaluateOptions {
  /** Longest accepted script, in UTF-16 code units. Default 10,000. */
  maxLength?: number;
  /** Most evaluation steps (one per literal, variable, operator and statement). Default 100,000. */
  maxSteps?: number;
  /** Deepest nesting of parentheses and unary minus. Default 200. */
  maxDepth?: number;
  /** Largest magnitude of any value, in bits. Default 1024. */
  maxBits?: number;
}

const DEFAULTS: Required<EvaluateOptions> = { maxLength: 10_000, maxSteps: 100_000, maxDepth: 200, maxBits: 1024 };

type TokenKind = 'int' | 'name' | 'let' | 'op' | '(' | ')' | '=' | ';' | 'end';
interface Token {
  kind: TokenKind;
  text: string;
  pos: number;
}

type BinaryOp = '+' | '-' | '*' | '/' | '%';

type Expr =
  | { type: 'int'; value: bigint; pos: number }
  | { type: 'var'; name: string; pos: number }
  | { type: 'neg'; operand: Expr; pos: number }
  // A left-associative run of operators of one precedence level is kept flat so that evaluating
  // `1+1+1+…` (thousands of terms) loops instead of recursing once per operator.
  | { type: 'chain'; first: Expr; rest: { op: BinaryOp; operand: Expr; pos: number }[]; pos: number };

type Statement = { type: 'let'; name: string; value: Expr; pos: number } | { type: 'expr'; value: Expr; pos: number };

function locate(source: string, position: number): { position: number; line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < position && i < source.length; i++) {
    if (source[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { position, line, column: position - lineStart + 1 };
}

function describe(token: Token): string {
  return token.kind === 'end' ? 'the end of the script' : `'${token.text}'`;
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source[i] as string;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const start = i;
    if (/[0-9]/.test(ch)) {
      while (i < source.length && /[0-9]/.test(source[i] as string)) i++;
      // `12abc` is almost certainly a typo, not `12` followed by a variable.
      if (i < source.length && /[A-Za-z_]/.test(source[i] as string)) {
        const shown = i + 1 - start > 20 ? `${source.slice(start, start + 10)}…${source.slice(i - 9, i + 1)}` : source.slice(start, i + 1);
        throw new ScriptError('syntax', `syntax error: invalid number '${shown}…'`, locate(source, start));
      }
      tokens.push({ kind: 'int', text: source.slice(start, i), pos: start });
      continue;
    }
    if (/[A-Za-z_]/.test(ch)) {
      while (i < source.length && /[A-Za-z0-9_]/.test(source[i] as string)) i++;
      const text = source.slice(start, i);
      tokens.push({ kind: text === 'let' ? 'let' : 'name', text, pos: start });
      continue;
    }
    if ('+-*/%'.includes(ch)) {
      tokens.push({ kind: 'op', text: ch, pos: start });
    } else if (ch === '(' || ch === ')' || ch === '=' || ch === ';') {
      tokens.push({ kind: ch, text: ch, pos: start });
    } else {
      const shown = JSON.stringify(String.fromCodePoint(source.codePointAt(i) ?? 0));
      throw new ScriptError('syntax', `syntax error: unexpected character ${shown}`, locate(source, start));
    }
    i++;
  }
  tokens.push({ kind: 'end', text: '', pos: source.length });
  return tokens;
}

class Parser {
  private index = 0;
  private depth = 0;

  constructor(
    private readonly source: string,
    private readonly tokens: Token[],
    private readonly maxDepth: number,
  ) {}

  parseProgram(): Statement[] {
    const statements: Statement[] = [];
    for (;;) {
      while (this.peek().kind === ';') this.index++;
      if (this.peek().kind === 'end') return statements;
      statements.push(this.parseStatement());
      const next = this.peek();
      if (next.kind !== ';' && next.kind !== 'end') {
        throw this.syntax(`expected ';' or the end of the script, found ${describe(next)}`, next);
      }
    }
  }

  private parseStatement(): Statement {
    const first = this.peek();
    if (first.kind !== 'let') return { type: 'expr', value: this.parseExpr(), pos: first.pos };
    this.index++;
    const name = this.next();
    if (name.kind !== 'name') throw this.syntax(`expected a variable name after 'let', found ${describe(name)}`, name);
    const eq = this.next();
    if (eq.kind !== '=') throw this.syntax(`expected '=' after 'let ${name.text}', found ${describe(eq)}`, eq);
    return { type: 'let', name: name.text, value: this.parseExpr(), pos: first.pos };
  }

  private parseExpr(): Expr {
    return this.parseChain(['+', '-'], () => this.parseTerm());
  }

  private parseTerm(): Expr {
    return this.parseChain(['*', '/', '%'], () => this.parseUnary());
  }

  private parseChain(ops: BinaryOp[], operand: () => Expr): Expr {
    const first = operand();
    const rest: { op: BinaryOp; operand: Expr; pos: number }[] = [];
    for (;;) {
      const token = this.peek();
      if (token.kind !== 'op' || !ops.includes(token.text as BinaryOp)) break;
      this.index++;
      rest.push({ op: token.text as BinaryOp, operand: operand(), pos: token.pos });
    }
    return rest.length === 0 ? first : { type: 'chain', first, rest, pos: first.pos };
  }

  private parseUnary(): Expr {
    const token = this.peek();
    if (token.kind === 'op' && token.text === '-') {
      this.index++;
      return this.nested(token, () => ({ type: 'neg', operand: this.parseUnary(), pos: token.pos }));
    }
    return this.parsePrimary();
  }

  private parsePrimary(): Expr {
    const token = this.next();
    switch (token.kind) {
      case 'int':
        return { type: 'int', value: BigInt(token.text), pos: token.pos };
      case 'name':
        return { type: 'var', name: token.text, pos: token.pos };
      case '(': {
        const inner = this.nested(token, () => this.parseExpr());
        const close = this.next();
        if (close.kind !== ')') throw this.syntax(`expected ')' to close the '(' at column ${locate(this.source, token.pos).column}, found ${describe(close)}`, close);
        return inner;
      }
      case 'let':
        throw this.syntax(`'let' can only start a statement`, token);
      default:
        throw this.syntax(`expected a number, a variable or '(', found ${describe(token)}`, token);
    }
  }

  private nested<T>(token: Token, parse: () => T): T {
    if (++this.depth > this.maxDepth) {
      throw new ScriptError('limit', `nesting deeper than ${this.maxDepth} levels`, locate(this.source, token.pos));
    }
    try {
      return parse();
    } finally {
      this.depth--;
    }
  }

  private peek(): Token {
    // The token list always ends with an 'end' token and the parser never moves past it.
    return this.tokens[Math.min(this.index, this.tokens.length - 1)] as Token;
  }

  private next(): Token {
    const token = this.peek();
    if (token.kind !== 'end') this.index++;
    return token;
  }

  private syntax(message: string, token: Token): ScriptError {
    return new ScriptError('syntax', `syntax error: ${message}`, locate(this.source, token.pos));
  }
}

class Interpreter {
  private steps = 0;
  private readonly variables = new Map<string, bigint>();
  private readonly limit: bigint;

  constructor(
    private readonly source: string,
    private readonly maxSteps: number,
    private readonly maxBits: number,
  ) {
    this.limit = 1n << BigInt(maxBits);
  }

  run(statements: Statement[]): bigint {
    let last = 0n;
    for (const statement of statements) {
      this.step(statement.pos);
      last = this.evaluate(statement.value);
      if (statement.type === 'let') this.variables.set(statement.name, last);
    }
    return last;
  }

  private evaluate(expr: Expr): bigint {
    this.step(expr.pos);
    switch (expr.type) {
      case 'int':
        return this.checked(expr.value, expr.pos);
      case 'var': {
        const value = this.variables.get(expr.name);
        if (value === undefined) throw this.error('runtime', `unknown variable '${expr.name}'`, expr.pos);
        return value;
      }
      case 'neg':
        return -this.evaluate(expr.operand);
      case 'chain': {
        let acc = this.evaluate(expr.first);
        for (const { op, operand, pos } of expr.rest) {
          const right = this.evaluate(operand);
          this.step(pos);
          acc = this.checked(this.apply(op, acc, right, pos), pos);
        }
        return acc;
      }
    }
  }

  private apply(op: BinaryOp, left: bigint, right: bigint, pos: number): bigint {
    switch (op) {
      case '+':
        return left + right;
      case '-':
        return left - right;
      case '*':
        return left * right;
      case '/':
      case '%':
        if (right === 0n) throw this.error('runtime', op === '/' ? 'division by zero' : 'modulo by zero', pos);
        return op === '/' ? left / right : left % right;
    }
  }

  private checked(value: bigint, pos: number): bigint {
    if (value >= this.limit || value <= -this.limit) {
      throw this.error('limit', `integer overflow: a value exceeds ${this.maxBits} bits`, pos);
    }
    return value;
  }

  private step(pos: number): void {
    if (++this.steps > this.maxSteps) throw this.error('limit', `too many evaluation steps (limit ${this.maxSteps})`, pos);
  }

  private error(kind: ScriptErrorKind, message: string, pos: number): ScriptError {
    return new ScriptError(kind, message, locate(this.source, pos));
  }
}

function checkLimit(name: keyof EvaluateOptions, value: number | undefined): number {
  const resolved = value ?? DEFAULTS[name];
  if (!Number.isSafeInteger(resolved) || resolved < 1) {
    throw new InvalidArgumentError(`evaluateScript: option ${name} must be a positive integer, got ${String(value)}`);
  }
  return resolved;
}

/**
 * Evaluates a script of the reference server's arithmetic language (see the module comment)
 * and returns its result as a decimal string. Never uses `eval`, `Function` or `vm`.
 *
 * @throws ScriptError for a syntax error (with line and column), an unknown variable, division
 *   or modulo by zero, an empty script, or a script exceeding one of the limits.
 * @example
 * evaluateScript('let x = 10; x * 2'); // '20'
 * evaluateScript('-7 / 2');            // '-3' (truncates toward zero)
 * evaluateScript('2 + 3 * (4 - 1)');   // '11'
 */
export function evaluateScript(script: string, options: EvaluateOptions = {}): string {
  if (typeof script !== 'string') throw new ScriptError('syntax', 'the script must be a string');
  const maxLength = checkLimit('maxLength', options.maxLength);
  const maxSteps = checkLimit('maxSteps', options.maxSteps);
  const maxDepth = checkLimit('maxDepth', options.maxDepth);
  const maxBits = checkLimit('maxBits', options.maxBits);
  if (script.length > maxLength) {
    throw new ScriptError('limit', `script too long: ${script.length} characters (limit ${maxLength})`);
  }
  const statements = new Parser(script, tokenize(script), maxDepth).parseProgram();
  if (statements.length === 0) throw new ScriptError('syntax', 'syntax error: the script is empty, there is nothing to evaluate');
  return new Interpreter(script, maxSteps, maxBits).run(statements).toString();
}
