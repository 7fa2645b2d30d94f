import { NotBuiltError } from '../../errors.js';

/** Commands whose flags and config validate but whose work has not landed yet end here (exit 2). */
export function notBuilt(what: string, issue: number): never {
  throw new NotBuiltError(what, issue);
}
