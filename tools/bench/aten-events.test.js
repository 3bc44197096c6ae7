/* global describe, test, expect */
// aten-events.js: the Kineto events of the libtorch addon sorted into addon ops and ATen ops.
'use strict';
const { addonOpOf, deviceOpOf, atenTables } = require('./aten-events');

// [name, onDevice, us, startUs, thread, correlation, linked correlation]
const ev = (name, start, us, thread = 2, onDevice = 0, correlation = 0, linked = 0) => [name, onDevice, us, start, thread, correlation, linked];

describe('addonOpOf', () => {
  test('each host event belongs to the addon op that started last before it on its thread, whatever its times', () => {
    const events = [
      ev('aten::empty', 5, 1), // before any addon op
      ev('dlcv::conv2d', 10, 20),
      ev('aten::convolution', 11, 15),
      ev('aten::_convolution', 12, 14),
      ev('dlcv::transpose', 31, 3),
      ev('aten::permute', 31, 0), // the same microsecond as its op's start: Kineto lists the op first
      ev('aten::as_strided', 32, 0), // past the op's rounded end, still its own
      ev('dlcv::binary', 40, 5),
      ev('aten::mul', 41, 3),
    ];
    expect(addonOpOf(events)).toEqual([-1, -1, 1, 1, -1, 4, 4, -1, 7]);
  });

  test('events out of order are taken by start; device events belong to no op; a thread without addon ops goes by time', () => {
    const events = [
      ev('aten::mul', 41, 3),
      ev('dlcv::conv2d', 10, 20),
      ev('cudaLaunchKernel', 15, 2, 99), // the runtime's thread: inside conv2d's span
      ev('dlcv::binary', 40, 5),
      ev('aten::convolution', 11, 15),
      ev('cudaLaunchKernel', 33, 2, 99), // between two ops: none
      ev('void kernel<float>()', 16, 40, 0, 1),
      ev('cudaLaunchKernel', 44, 1, 99),
    ];
    expect(addonOpOf(events)).toEqual([3, -1, 1, -1, 1, -1, -1, 3]);
  });
});

describe('deviceOpOf', () => {
  test('a GPU event goes to the addon op of the ATen op its linked correlation names, else of the runtime call with its correlation; correlations of ops and of runtime calls are apart', () => {
    const events = [
      ev('dlcv::conv2d', 10, 20),
      ev('aten::convolution', 11, 15, 2, 0, 7), // the op's correlation 7
      ev('cudaLaunchKernel', 12, 2, 99, 0, 3, 7), // the runtime call: correlation 3, linked to the op
      ev('dlcv::add', 40, 10),
      ev('aten::add', 41, 8, 2, 0, 3), // an op whose correlation 3 is the runtime call's number too
      ev('cudaLaunchKernel', 42, 2, 99, 0, 9, 3),
      ev('conv_kernel', 20, 500, 0, 1, 3, 7), // linked to aten::convolution: conv2d
      ev('add_kernel', 50, 30, 0, 1, 9, 3), // linked to aten::add: add
      ev('memcpy', 60, 4, 0, 1, 9, 0), // no linked op: the runtime call with correlation 9 (add)
      ev('lost_kernel', 70, 4, 0, 1, 11, 12), // neither found
    ];
    expect(deviceOpOf(events, addonOpOf(events))).toEqual([-1, -1, -1, -1, -1, -1, 0, 3, 3, -1]);
  });
});

describe('atenTables', () => {
  test('totals, ATen rows (the addon ops left out) and addon rows with their ATen events, launches a call and GPU time', () => {
    const events = [
      ev('dlcv::conv2d', 10, 20),
      ev('aten::convolution', 11, 15, 2, 0, 1),
      ev('cudaLaunchKernel', 12, 2, 99, 0, 101, 1),
      ev('dlcv::conv2d', 40, 10),
      ev('aten::convolution', 41, 8, 2, 0, 2),
      ev('cudaLaunchKernel', 42, 2, 99, 0, 102, 2),
      ev('cudaLaunchKernel', 45, 2, 99, 0, 103, 2),
      ev('dlcv::free', 60, 1),
      ev('conv_kernel', 20, 500, 0, 1, 101, 1),
      ev('conv_kernel', 50, 300, 0, 1, 102, 2),
    ];
    const { totals, aten, addon } = atenTables(events);
    expect(totals).toEqual({ host: 5, launches: 3, device: 2, deviceMs: 0.8, addonOps: 3 });
    // the most device time first
    expect(aten.map(([name]) => name)).toEqual(['conv_kernel', 'cudaLaunchKernel', 'aten::convolution']);
    expect(Object.fromEntries(aten)['aten::convolution']).toEqual({ calls: 2, deviceMs: 0, hostMs: 0.023 });
    expect(addon).toEqual([
      ['conv2d', { calls: 2, atenEvents: 2, launches: 3, hostMs: 0.03, deviceMs: 0.8 }],
      ['free', { calls: 1, atenEvents: 0, launches: 0, hostMs: 0.001, deviceMs: 0 }],
    ]);
  });

  test('on the CPU (no device events) the ATen rows go by host time', () => {
    const { totals, aten } = atenTables([ev('dlcv::unary', 0, 9), ev('aten::neg', 1, 2), ev('aten::mul', 5, 3), ev('aten::mul', 8, 1)]);
    expect(totals.device).toBe(0);
    expect(aten).toEqual([
      ['aten::mul', { calls: 2, deviceMs: 0, hostMs: 0.004 }],
      ['aten::neg', { calls: 1, deviceMs: 0, hostMs: 0.002 }],
    ]);
  });
});
