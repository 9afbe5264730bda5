// The ONNX Runtime embedrt ships and is tested with: onnxruntime-node's libraries, one version everywhere.
export const ORT_NODE_VERSION = '1.30.0';

// Every platform embedrt ships a prebuilt addon for: onnxruntime-node 1.30.0's five. For each, the zig
// target it is cross-built with (glibc 2.28 for Linux: RHEL 8, Debian 10, Ubuntu 20.04 and newer; macOS
// 14, ONNX Runtime's own minimum), where onnxruntime-node keeps its ONNX Runtime library, and the name
// that library has beside the addon (the name native/core/platform.cc loads).
export const TARGETS = {
  'linux-x64': {
    zig: 'x86_64-linux-gnu.2.28',
    os: 'linux',
    cpu: 'x64',
    libc: 'glibc',
    ortNode: 'linux/x64/libonnxruntime.so.1',
    name: 'libonnxruntime.so.1',
  },
  'linux-arm64': {
    zig: 'aarch64-linux-gnu.2.28',
    os: 'linux',
    cpu: 'arm64',
    libc: 'glibc',
    ortNode: 'linux/arm64/libonnxruntime.so.1',
    name: 'libonnxruntime.so.1',
  },
  'darwin-arm64': {
    zig: 'aarch64-macos.14.0',
    os: 'darwin',
    cpu: 'arm64',
    ortNode: 'darwin/arm64/libonnxruntime.1.30.0.dylib',
    name: 'libonnxruntime.1.dylib',
  },
  'win32-x64': {
    zig: 'x86_64-windows-gnu',
    os: 'win32',
    cpu: 'x64',
    ortNode: 'win32/x64/onnxruntime.dll',
    name: 'onnxruntime.dll',
  },
  'win32-arm64': {
    zig: 'aarch64-windows-gnu',
    os: 'win32',
    cpu: 'arm64',
    ortNode: 'win32/arm64/onnxruntime.dll',
    name: 'onnxruntime.dll',
  },
};

// The npm package that carries a target's addon and ONNX Runtime library.
export const packageName = (target) => `@embedrt/${target}`;
