{
  # node-gyp build of the same addon CMakeLists.txt builds; node-gyp-build falls back to it when no
  # prebuild matches. Paths to ONNX Runtime and utf8proc come from scripts/assemble-ort.mjs.
  "variables": {
    "ort_root": "<!(node scripts/assemble-ort.mjs --get ortRoot)",
    "utf8proc_root": "<!(node scripts/assemble-ort.mjs --get utf8procRoot)",
    "embedrt_version": "<!(node -p \"require('./package.json').version\")"
  },
  "targets": [
    {
      "target_name": "embedrt",
      "sources": [
        "native/addon/addon.cc",
        "native/addon/model_binding.cc",
        "native/addon/search_binding.cc",
        "native/addon/tokenizer_binding.cc",
        "native/core/cpu_features.cc",
        "native/core/embedder.cc",
        "native/core/gemm.cc",
        "native/core/linear.cc",
        "native/core/linear_op.cc",
        "native/core/ort_runtime.cc",
        "native/core/pooling.cc",
        "native/core/search.cc",
        "native/core/session.cc",
        "native/core/simd.cc",
        "native/core/thread_pool.cc",
        "native/core/tokenizer.cc",
        "native/core/unicode.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native/core",
        "<(ort_root)/include",
        "<(utf8proc_root)/include"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS",
        "ORT_API_MANUAL_INIT",
        "UTF8PROC_STATIC",
        "EMBEDRT_VERSION=\"<(embedrt_version)\""
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-fvisibility=hidden"],
      "libraries": [
        "<(utf8proc_root)/lib/libutf8proc.a",
        "-ldl",
        "-Wl,-rpath,'$$ORIGIN'"
      ],
      "copies": [
        {
          "destination": "<(PRODUCT_DIR)",
          "files": ["<(ort_root)/lib/libonnxruntime.so.1"]
        }
      ]
    }
  ]
}
