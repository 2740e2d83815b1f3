import type { z } from 'zod'
import { ConfigError } from './errors.js'

/**
 * Validates options once, against a component's schema. Every problem is reported with the path
 * of its field (`inputPartitions.2: ...`) in one ConfigError.
 */
export function parseOptions<S extends z.ZodType>(component: string, schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input)
  if (result.success) return result.data
  throw new ConfigError(
    component,
    result.error.issues.map((issue) => {
      const path = issue.path.map(String)
      if (issue.code === 'unrecognized_keys') {
        return { field: [...path, ...issue.keys].join('.'), message: 'unknown option' }
      }
      return { field: path.length > 0 ? path.join('.') : '(options)', message: issue.message }
    }),
  )
}
