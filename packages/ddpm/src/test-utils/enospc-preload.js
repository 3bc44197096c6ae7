// Preloaded (node -r) by the CLI tests: a disk that is full for files under $DLCV_TEST_FULL_DIR.
// Opening works, writing fails with ENOSPC, as on a filesystem that fills while a file is written.
const fs = require('node:fs');
const path = require('node:path');

const full = path.resolve(process.env.DLCV_TEST_FULL_DIR);
const realOpen = fs.promises.open;
fs.promises.open = async function open(file, ...rest) {
  const handle = await realOpen.call(this, file, ...rest);
  if (path.resolve(String(file)).startsWith(full + path.sep)) {
    handle.writeFile = async () => {
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
    };
  }
  return handle;
};
