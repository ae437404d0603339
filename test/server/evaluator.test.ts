import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import { ScriptError, evaluateScript } from '../../src/server/evaluator.js';

function failure(script: string, options?: Parameters<typeof evaluateScript>[1]): ScriptError {
  try {
    evaluateScript(script, options);
  } catch (err) {
    expect(err).toBeInstanceOf(ScriptError);
    return err as ScriptError;
  }
  throw new Error(`expected ${JSON.stringify(script)} to fail`);
}

describe('evaluateScript: values', () => {
  it.each([
    ['42', '42'],
    ['1 + 2 * 3', '7'],
    ['(1 + 2) * 3', '9'],
    ['10 - 4 - 3', '3'], // left-associative
    ['100 / 10 / 5', '2'],
    ['2 * 3 % 4', '2'], // same level as *, left to right
    ['1 + 10 % 4', '3'],
    ['-3 * -(2 + 1)', '9'],
    ['--5', '5'],
    ['-2 * 3 + 1', '-5'],
    ['7 / 2', '3'],
    ['-7 / 2', '-3'], // truncates toward zero, not floor
    ['7 / -2', '-3'],
    ['-7 % 2', '-1'], // sign of the dividend
    ['7 % -2', '1'],
    ['  1\n+\t2  ', '3'],
  ])('%j = %s', (script, expected) => {
    expect(evaluateScript(script)).toBe(expected);
  });

  it('binds variables with let and returns the last statement', () => {
    expect(evaluateScript('let x = 10; x * 2')).toBe('20');
    expect(evaluateScript('let a = 2; let b = a * a; let a = b + a; a')).toBe('6');
    expect(evaluateScript('let _tmp1 = 5')).toBe('5'); // a let evaluates to the value it binds
    expect(evaluateScript('1; 2;; 3;')).toBe('3'); // empty statements and a trailing ';'
  });

  it('computes exactly beyond the float range (BigInt)', () => {
    expect(evaluateScript('9007199254740993 + 0')).toBe('9007199254740993');
    expect(evaluateScript('let a = 4294967296; a * a * a')).toBe((2n ** 96n).toString());
  });

  it('handles long flat chains without deep recursion', () => {
    const script = Array.from({ length: 4000 }, () => '1').join('+');
    expect(evaluateScript(script)).toBe('4000');
  });
});

describe('evaluateScript: errors', () => {
  it('reports division and modulo by zero with the position of the operator', () => {
    const err = failure('let x = 0;\n10 / x');
    expect(err.kind).toBe('runtime');
    expect(err.message).toBe('division by zero at line 2, column 4');
    expect(err.position).toBe(14);
    expect(failure('5 % (2 - 2)').message).toMatch(/^modulo by zero at line 1, column 3$/);
  });

  it('reports unknown variables', () => {
    const err = failure('let x = 1; x + y');
    expect(err.kind).toBe('runtime');
    expect(err.message).toBe("unknown variable 'y' at line 1, column 16");
  });

  it('does not let a variable be used before its let', () => {
    expect(failure('x; let x = 1').message).toMatch(/unknown variable 'x'/);
  });

  it.each([
    ['1 +', /syntax error: expected a number, a variable or '\(', found the end of the script at line 1, column 4/],
    ['(1 + 2', /expected '\)' to close the '\(' at column 1, found the end of the script/],
    ['1 2', /expected ';' or the end of the script, found '2' at line 1, column 3/],
    ['let = 3', /expected a variable name after 'let', found '='/],
    ['let x 3', /expected '=' after 'let x', found '3'/],
    ['1 + let', /'let' can only start a statement/],
    ['2 ^ 3', /unexpected character "\^" at line 1, column 3/],
    ['12abc', /invalid number '12a…'/],
    ['1 + )', /found '\)' at line 1, column 5/],
    ['', /the script is empty/],
    [' ;; ', /the script is empty/],
  ])('syntax error for %j', (script, pattern) => {
    const err = failure(script);
    expect(err.kind).toBe('syntax');
    expect(err.message).toMatch(pattern);
  });

  it('reports a syntax error before evaluating anything', () => {
    expect(failure('1 / 0; 2 +').kind).toBe('syntax');
  });

  it('refuses scripts longer than the bound', () => {
    const err = failure('1'.padEnd(10_001, ' '));
    expect(err.kind).toBe('limit');
    expect(err.message).toBe('script too long: 10001 characters (limit 10000)');
    expect(evaluateScript('1'.padEnd(10_000, ' '))).toBe('1');
    expect(failure('1 + 1', { maxLength: 3 }).kind).toBe('limit');
  });

  it('stops after too many evaluation steps', () => {
    const script = Array.from({ length: 100 }, () => '1').join('+');
    const err = failure(script, { maxSteps: 50 });
    expect(err.kind).toBe('limit');
    expect(err.message).toMatch(/^too many evaluation steps \(limit 50\)/);
    expect(evaluateScript(script, { maxSteps: 1000 })).toBe('100');
  });

  it('bounds nesting depth', () => {
    const err = failure(`${'('.repeat(300)}1${')'.repeat(300)}`);
    expect(err.kind).toBe('limit');
    expect(err.message).toMatch(/^nesting deeper than 200 levels at line 1, column 201$/);
    expect(failure(`${'-'.repeat(300)}1`).kind).toBe('limit');
    expect(evaluateScript(`${'('.repeat(200)}1${')'.repeat(200)}`)).toBe('1');
  });

  it('bounds the size of integers', () => {
    const err = failure('let a = 4294967296; let a = a * a; let a = a * a; let a = a * a; let a = a * a; let a = a * a; a * a');
    expect(err.kind).toBe('limit');
    expect(err.message).toMatch(/^integer overflow: a value exceeds 1024 bits at line 1, column \d+$/);
    expect(failure('9'.repeat(400)).kind).toBe('limit');
    expect(failure('256 * 256', { maxBits: 16 }).message).toMatch(/exceeds 16 bits/);
  });

  it('rejects bad limit options as a caller mistake', () => {
    expect(() => evaluateScript('1', { maxSteps: 0 })).toThrow(InvalidArgumentError);
    expect(() => evaluateScript('1', { maxLength: 1.5 })).toThrow(InvalidArgumentError);
  });

  it('rejects a non-string script', () => {
    expect(failure(42 as unknown as string).message).toBe('the script must be a string');
  });
});
