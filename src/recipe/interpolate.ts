// `${env.NAME}`, `${env.NAME:-default}` and `${steps.<id>.<output>}` inside recipe strings.
// Pure: the environment is passed in. `$${` is a literal `${`.

/** A `${steps.<id>.<output>}` placeholder, resolved by the engine at run time. */
export interface StepReference {
  readonly stepId: string;
  readonly output: string;
  /** Offset of the placeholder inside the string value. */
  readonly index: number;
  readonly length: number;
}

/** A placeholder that could not be resolved, with its place inside the string. */
export interface InterpolationProblem {
  readonly message: string;
  readonly index: number;
  readonly length: number;
}

export interface InterpolationResult {
  readonly value: string;
  /** True when at least one `${env…}` placeholder was replaced. */
  readonly usedEnv: boolean;
  readonly stepRefs: readonly StepReference[];
  readonly problems: readonly InterpolationProblem[];
}

const PLACEHOLDER = /\$\$\{|\$\{([^}]*)\}|\$\{/g;
const ENV_EXPR = /^env\.([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;
const STEP_EXPR = /^steps\.([a-z][a-z0-9-]*)\.([A-Za-z][A-Za-z0-9_]*)$/;

/**
 * Replaces env placeholders in `text`. Step placeholders are kept verbatim (they are
 * resolved later) and reported in `stepRefs`. An unset variable without a default,
 * an unknown form or an unclosed `${` is a problem; the text is still returned with
 * the placeholder left in place so that later checks do not cascade.
 */
export function interpolate(
  text: string,
  env: Readonly<Record<string, string | undefined>>,
): InterpolationResult {
  if (!text.includes('${')) return { value: text, usedEnv: false, stepRefs: [], problems: [] };
  const stepRefs: StepReference[] = [];
  const problems: InterpolationProblem[] = [];
  let usedEnv = false;
  let out = '';
  let last = 0;
  for (const match of text.matchAll(PLACEHOLDER)) {
    const index = match.index;
    const whole = match[0];
    out += text.slice(last, index);
    last = index + whole.length;
    if (whole === '$${') {
      out += '${';
      continue;
    }
    const expr = match[1];
    if (expr === undefined) {
      problems.push({
        message: "unclosed '${': write '}' after the variable, or '$${' for a literal '${'",
        index,
        length: 2,
      });
      out += whole;
      continue;
    }
    const env_ = ENV_EXPR.exec(expr);
    if (env_) {
      const name = env_[1] ?? '';
      const fallback = env_[2];
      // Own variables only: `${env.constructor}` must not find Object.prototype's member.
      const actual = Object.hasOwn(env, name) ? env[name] : undefined;
      if (actual !== undefined && (actual !== '' || fallback === undefined)) {
        out += actual;
        usedEnv = true;
      } else if (fallback !== undefined) {
        out += fallback;
        usedEnv = true;
      } else {
        problems.push({
          message: `environment variable ${name} is not set: export it, or give a default with \${env.${name}:-value}`,
          index,
          length: whole.length,
        });
        out += whole;
      }
      continue;
    }
    const step = STEP_EXPR.exec(expr);
    if (step) {
      stepRefs.push({
        stepId: step[1] ?? '',
        output: step[2] ?? '',
        index: out.length,
        length: whole.length,
      });
      out += whole;
      continue;
    }
    problems.push({
      message: `unknown placeholder '${whole}': expected \${env.NAME}, \${env.NAME:-default} or \${steps.<step>.<output>}`,
      index,
      length: whole.length,
    });
    out += whole;
  }
  out += text.slice(last);
  return { value: out, usedEnv, stepRefs, problems };
}
