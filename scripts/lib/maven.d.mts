export function jarsComplete(libsDir: string): boolean
export function fetchJars(options: {
  pom: string
  libsDir: string
  name: string
  version: string
  log: (line: string) => void
}): void
