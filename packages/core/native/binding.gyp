{
  "targets": [
    {
      "target_name": "dlcv_native",
      "sources": ["src/binding.cc", "src/dnnl_ops.cc", "src/cpu_ops.cc"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O3", "-fopenmp", "-fexceptions"],
      "ldflags": ["-fopenmp"],
      "libraries": ["-ldnnl", "-lgomp"],
      "defines": ["NAPI_VERSION=8"],
      "conditions": [
        ["target_arch=='x64'", {
          "cflags_cc": ["-march=x86-64-v2", "-mtune=generic"],
          "libraries": ["-lmvec"]
        }]
      ]
    }
  ]
}
