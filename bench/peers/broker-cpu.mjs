/**
 * The broker's CPU time, when the broker runs on this machine: the processes listening on the brokers' ports
 * (from /proc/net/tcp{,6} and each process's socket fds), user + system from /proc/<pid>/stat. The broker shares
 * the machine's cores with the client, so its CPU per record is what a client's request pattern costs it.
 * Returns null where that cannot be read (another host, no /proc).
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs'
import { parseProcStatCpu } from './parse.mjs'

function listeningInodes(ports) {
  const inodes = new Set()
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text
    try {
      text = readFileSync(file, 'utf8')
    } catch {
      continue
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/)
      if (f.length < 10 || f[3] !== '0A') continue // 0A: LISTEN
      const port = parseInt(f[1].split(':')[1], 16)
      if (ports.has(port)) inodes.add(f[9])
    }
  }
  return inodes
}

/** Pids of the local processes listening on the ports of `brokers` ("host:port"). */
export function brokerPids(brokers) {
  const ports = new Set(brokers.map((b) => Number(b.split(':').pop())))
  const inodes = listeningInodes(ports)
  if (inodes.size === 0) return []
  const pids = []
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let fds
    try {
      fds = readdirSync(`/proc/${pid}/fd`)
    } catch {
      continue
    }
    for (const fd of fds) {
      let target
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`)
      } catch {
        continue
      }
      const m = /^socket:\[(\d+)\]$/.exec(target)
      if (m !== null && inodes.has(m[1])) {
        pids.push(Number(pid))
        break
      }
    }
  }
  return pids
}

/** A reader of the brokers' CPU seconds so far, or null when no local broker process was found. */
export function brokerCpuReader(brokers) {
  let pids
  try {
    pids = brokerPids(brokers)
  } catch {
    return null
  }
  if (pids.length === 0) return null
  return () => {
    let total = 0
    for (const pid of pids) {
      try {
        total += parseProcStatCpu(readFileSync(`/proc/${pid}/stat`, 'utf8'))
      } catch {
        return NaN
      }
    }
    return total
  }
}
