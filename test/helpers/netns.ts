/**
 * A network namespace for one daemon of the fault tests: it reaches this machine (and so the 3-node
 * cluster's NETNS listener) only through a veth pair, host end NETNS_HOST, namespace end
 * NETNS_GUEST. cut() takes the host end down: the daemon's connections stop carrying anything, as
 * when a host's network fails, and restore() brings it back. Needs root (CI runs as root).
 */
import { execFileSync } from 'node:child_process'
import { NETNS_HOST } from '../../scripts/lib/cluster.mjs'

export const NETNS_GUEST = '10.231.255.2'

const ip = (...args: string[]) => execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
const quietly = (...args: string[]) => {
  try {
    ip(...args)
  } catch {
    // already gone
  }
}

export class NetNamespace {
  readonly #hostEnd: string
  readonly #guestEnd: string

  private constructor(readonly name: string) {
    this.#hostEnd = `${name.slice(0, 10)}-h`
    this.#guestEnd = `${name.slice(0, 10)}-g`
  }

  /** Creates the namespace and its veth (removing what an earlier run left behind). */
  static create(name = 'kasper-ft'): NetNamespace {
    const ns = new NetNamespace(name)
    ns.remove()
    ip('netns', 'add', name)
    ip('link', 'add', ns.#hostEnd, 'type', 'veth', 'peer', 'name', ns.#guestEnd)
    ip('link', 'set', ns.#guestEnd, 'netns', name)
    ip('addr', 'add', `${NETNS_HOST}/24`, 'dev', ns.#hostEnd)
    ip('link', 'set', ns.#hostEnd, 'up')
    ip('netns', 'exec', name, 'ip', 'addr', 'add', `${NETNS_GUEST}/24`, 'dev', ns.#guestEnd)
    ip('netns', 'exec', name, 'ip', 'link', 'set', ns.#guestEnd, 'up')
    ip('netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up')
    return ns
  }

  /** The command line prefix that runs a program inside the namespace. */
  exec(command: string, args: readonly string[]): { command: string; args: string[] } {
    return { command: 'ip', args: ['netns', 'exec', this.name, command, ...args] }
  }

  /** Takes the host end down: nothing crosses until restore(). */
  cut(): void {
    ip('link', 'set', this.#hostEnd, 'down')
  }

  restore(): void {
    ip('link', 'set', this.#hostEnd, 'up')
  }

  remove(): void {
    quietly('link', 'del', this.#hostEnd)
    quietly('netns', 'del', this.name)
  }
}
