import { RE2JS } from 're2js';

// The pattern of a TCP send/expect check. It is written by whoever may create ExternalEndpoints and runs on bytes an
// arbitrary server sends, in the operator's event loop, after every read. A backtracking engine (JavaScript's RegExp)
// takes exponential time on patterns such as `^(a+)+$`, so one object could stall every controller of the process.
// RE2 syntax (re2js, a JavaScript port of RE2) matches in time linear in the input: no backreferences or lookaround,
// which an answer check does not need.

/** A compiled `healthCheck.tcp.expect`: searched anywhere in the text, as RegExp.test would. */
export class AnswerPattern {
  readonly source: string;
  readonly #re: RE2JS;

  private constructor(source: string, re: RE2JS) {
    this.source = source;
    this.#re = re;
  }

  /** Compiles `source`; throws with RE2's one-line message (e.g. "missing closing )") when it is not valid RE2. */
  static compile(source: string): AnswerPattern {
    return new AnswerPattern(source, RE2JS.compile(source));
  }

  test(text: string): boolean {
    return this.#re.matcher(text).find();
  }

  /** The probe scheduler compares specs as JSON: a changed pattern must read as a change. */
  toJSON(): string {
    return `re2:${this.source}`;
  }
}
