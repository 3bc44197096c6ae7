/** zod, and its errors as one line: shared by the JSON readers and the report page in the browser. */
import { z } from 'zod';

export { z };

/** "a.b[2]: message" for each problem, joined. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const where = issue.path
        .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
        .join('')
        .replace(/^\./, '');
      return where ? `${where}: ${issue.message}` : issue.message;
    })
    .join('; ');
}
