// Every package's test environment (jest.config.base.js). Jest runs tests in a separate JS realm
// whose typed-array classes differ from the ones that native addons (onnxruntime-node) create,
// so `data instanceof Float32Array` fails inside onnxruntime-common. Sharing the host's typed-array classes with the test realm fixes it.
const { TestEnvironment } = require('jest-environment-node');

const SHARED = ['ArrayBuffer', 'SharedArrayBuffer', 'DataView', 'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array'];

class SharedTypedArraysEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) this.global[name] = globalThis[name];
  }
}

module.exports = SharedTypedArraysEnvironment;
