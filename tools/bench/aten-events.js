// The libtorch addon's Kineto events (stopAtenProfile: [name, onDevice, us, startUs, thread,
// correlation, linked correlation]) in tables. The addon runs each op inside one event named
// dlcv::<op> (op_timing.cc), and the ATen calls it makes follow that event on the same thread;
// so each host event belongs to the addon op that started last before it on its thread. That
// needs no nesting by time, which libtorch 1.13's whole microseconds cannot settle for
// sub-microsecond view ops. A GPU event belongs to the addon op of the ATen op that launched it
// (its linked correlation is that op's correlation, as torch.profiler links them), or else of
// the runtime call with its own correlation.
'use strict';

const ADDON_PREFIX = 'dlcv::';

/**
 * The addon op each host event ran in: an array parallel to `events` holding the index of its
 * dlcv:: event, or -1 (a dlcv:: event itself, a device event, or a host event outside the
 * addon's ops). Events of a thread with addon ops are taken in order of start (a tie keeps
 * Kineto's order, which lists an event before the ones it encloses). Events of other threads
 * (on CUDA, the runtime's calls, which Kineto files under the system's thread id) go to the addon
 * op whose span holds their start.
 */
function addonOpOf(events) {
  const owner = new Array(events.length).fill(-1);
  const byThread = new Map();
  events.forEach((e, i) => {
    if (e[1] !== 0) return;
    const list = byThread.get(e[4]) ?? [];
    list.push(i);
    byThread.set(e[4], list);
  });
  const ops = events.map((_, i) => i).filter((i) => events[i][1] === 0 && events[i][0].startsWith(ADDON_PREFIX));
  ops.sort((a, b) => events[a][3] - events[b][3]);
  const spanHolding = (start) => {
    let lo = 0;
    let hi = ops.length - 1;
    let found = -1; // the last op starting at or before `start`
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (events[ops[mid]][3] <= start) [found, lo] = [mid, mid + 1];
      else hi = mid - 1;
    }
    if (found < 0) return -1;
    const [, , us, opStart] = events[ops[found]];
    return start <= opStart + us ? ops[found] : -1;
  };
  for (const list of byThread.values()) {
    list.sort((a, b) => events[a][3] - events[b][3]);
    const hasOps = list.some((i) => events[i][0].startsWith(ADDON_PREFIX));
    let current = -1;
    for (const i of list) {
      if (events[i][0].startsWith(ADDON_PREFIX)) current = i;
      else owner[i] = hasOps ? current : spanHolding(events[i][3]);
    }
  }
  return owner;
}

const isRuntime = (name) => /^cu/.test(name);

/**
 * The addon op each GPU event ran for: an array parallel to `events` holding the index of the
 * dlcv:: event, or -1 (not a GPU event, or its launch not found). `hostOwner` is addonOpOf's.
 */
function deviceOpOf(events, hostOwner) {
  const opsByCorrelation = new Map();
  const runtimeByCorrelation = new Map();
  events.forEach((e, i) => {
    if (e[1] !== 0 || !e[5]) return;
    (isRuntime(e[0]) ? runtimeByCorrelation : opsByCorrelation).set(e[5], i);
  });
  return events.map((e) => {
    if (e[1] === 0) return -1;
    const launch = (e[6] ? opsByCorrelation.get(e[6]) : undefined) ?? (e[5] ? runtimeByCorrelation.get(e[5]) : undefined);
    return launch === undefined ? -1 : hostOwner[launch];
  });
}

const byMostTime = (key) => (a, b) => key(b[1]) - key(a[1]) || b[1].calls - a[1].calls;

/**
 * A profile's tables:
 * - totals: { host, launches, device, deviceMs, addonOps } (host events are the ATen ops with
 *   the ones nested in them, and on CUDA the runtime's calls);
 * - aten: [[name, { calls, deviceMs, hostMs }], ...] of every event but the addon's own, the
 *   most device time first (host time on the CPU), then the most calls; host times include the
 *   ops nested in them;
 * - addon: [[op, { calls, atenEvents, launches, hostMs, deviceMs }], ...] by addon op: its calls,
 *   the ATen events and kernel launches they made, their time where they ran and the GPU time of
 *   what they launched; the most GPU time first (host time on the CPU).
 */
function atenTables(events) {
  const owner = addonOpOf(events);
  const deviceOwner = deviceOpOf(events, owner);
  const aten = new Map();
  const addon = new Map();
  const totals = { host: 0, launches: 0, device: 0, deviceMs: 0, addonOps: 0 };
  const launch = (name) => /^cuda.*Launch/.test(name);
  events.forEach(([name, onDevice, us]) => {
    if (!onDevice && name.startsWith(ADDON_PREFIX)) {
      const op = name.slice(ADDON_PREFIX.length);
      const a = addon.get(op) ?? { calls: 0, atenEvents: 0, launches: 0, hostMs: 0, deviceMs: 0 };
      a.calls++;
      a.hostMs += us / 1000;
      addon.set(op, a);
      totals.addonOps++;
      return;
    }
    const e = aten.get(name) ?? { calls: 0, deviceMs: 0, hostMs: 0 };
    e.calls++;
    if (onDevice) {
      e.deviceMs += us / 1000;
      totals.device++;
      totals.deviceMs += us / 1000;
    } else {
      e.hostMs += us / 1000;
      totals.host++;
      if (launch(name)) totals.launches++;
    }
    aten.set(name, e);
  });
  const opOf = (i) => addon.get(events[i][0].slice(ADDON_PREFIX.length));
  events.forEach(([name, , us], i) => {
    if (deviceOwner[i] >= 0) opOf(deviceOwner[i]).deviceMs += us / 1000;
    if (owner[i] < 0) return;
    if (launch(name)) opOf(owner[i]).launches++;
    else opOf(owner[i]).atenEvents++;
  });
  const key = totals.device > 0 ? (e) => e.deviceMs : (e) => e.hostMs;
  return {
    totals,
    aten: [...aten.entries()].sort(byMostTime(key)),
    addon: [...addon.entries()].sort(byMostTime(key)),
  };
}

module.exports = { addonOpOf, deviceOpOf, atenTables };
